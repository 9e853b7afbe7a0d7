// Answers of the `libraries` query and element permissions, as the service gives them, for
// component tests of screens that show a library.

export const CAN_ALL = { __typename: "ElementPermissions", edit: true, delete: true, downloadVoice: true, use: true };
export const CAN_USE_ONLY = { __typename: "ElementPermissions", edit: false, delete: false, downloadVoice: false, use: true };

export function personalLibrary(extra: object = {}) {
  return {
    __typename: "Library",
    qualifier: "me",
    name: "My library",
    kind: "PERSONAL",
    teamId: null,
    role: "OWNER",
    elementCount: 2,
    elementLimit: 30,
    viewerCan: { __typename: "LibraryPermissions", view: true, use: true, edit: true, downloadVoice: true, export: true },
    ...extra,
  };
}

export function teamLibrary(role: "OWNER" | "ADMIN" | "EDITOR" | "VIEWER", extra: object = {}) {
  const edits = role !== "VIEWER";
  return {
    __typename: "Library",
    qualifier: "studio-nine",
    name: "Studio Nine",
    kind: "TEAM",
    teamId: "VGVhbTox",
    role,
    elementCount: 1,
    elementLimit: 50,
    viewerCan: { __typename: "LibraryPermissions", view: true, use: true, edit: edits, downloadVoice: edits, export: true },
    ...extra,
  };
}

/** The operation's name, to answer each document of a screen differently. */
export const opName = (query: unknown) =>
  (query as { definitions: { name?: { value: string } }[] }).definitions.find((d) => d.name)?.name?.value;
