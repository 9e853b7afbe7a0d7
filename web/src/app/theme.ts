import { createTheme } from "@mantine/core";

/** Dark, one accent (violet), generous radius and spacing: media first, chrome quiet. */
export const theme = createTheme({
  primaryColor: "violet",
  primaryShade: { light: 6, dark: 5 },
  defaultRadius: "md",
  fontFamily:
    "Inter, ui-sans-serif, system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif",
  headings: { fontWeight: "650" },
  cursorType: "pointer",
});
