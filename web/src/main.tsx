import "@mantine/core/styles.css";
import "./app/studio.css";

import { MantineProvider } from "@mantine/core";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { RouterProvider } from "react-router";
import { Provider as UrqlProvider } from "urql";

import { makeClient } from "./app/client";
import { router } from "./app/router";
import { SessionProvider } from "./app/session";
import { theme } from "./app/theme";

const client = makeClient();

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <MantineProvider theme={theme} defaultColorScheme="dark">
      <UrqlProvider value={client}>
        <SessionProvider>
          <RouterProvider router={router} />
        </SessionProvider>
      </UrqlProvider>
    </MantineProvider>
  </StrictMode>,
);
