import { Select } from "@mantine/core";
import { Library as LibraryIcon, Users } from "lucide-react";

import { libraryLabel, PERSONAL, type LibraryInfo } from "../app/libraries";

/** The "Library" picker: "My library", then each team as "Team name (role)". A library the
 * URL names but the viewer can't see (left or removed) is not offered. */
export function LibrarySwitcher({
  libraries,
  value,
  onChange,
  label = "Library",
}: {
  libraries: LibraryInfo[] | null;
  value: string;
  onChange: (qualifier: string) => void;
  label?: string;
}) {
  const known = libraries ?? [];
  const data = known.length
    ? [
        ...known.filter((l) => l.kind === "PERSONAL").map((l) => ({ value: l.qualifier, label: libraryLabel(l) })),
        ...(known.some((l) => l.kind === "TEAM")
          ? [
              {
                group: "Teams",
                items: known.filter((l) => l.kind === "TEAM").map((l) => ({ value: l.qualifier, label: libraryLabel(l) })),
              },
            ]
          : []),
      ]
    : [{ value: PERSONAL, label: "My library" }];
  const current = known.find((l) => l.qualifier === value);
  return (
    <Select
      label={label}
      data={data}
      value={current || !libraries ? value : null}
      placeholder="Choose a library"
      onChange={(v) => v && onChange(v)}
      allowDeselect={false}
      checkIconPosition="right"
      leftSection={current?.kind === "TEAM" ? <Users size={16} aria-hidden /> : <LibraryIcon size={16} aria-hidden />}
      comboboxProps={{ withinPortal: true }}
      style={{ flex: "1 1 220px", maxWidth: 300 }}
    />
  );
}
