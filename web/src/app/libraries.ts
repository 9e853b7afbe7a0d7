import { useQuery } from "urql";

import { graphql } from "../gql";
import type { LibrariesQuery, TeamRole } from "../gql/graphql";

// The libraries the viewer may open: their own, then each team's. The switcher on /library,
// the create wizard and the element page read it; what a viewer may do in each comes from
// `viewerCan`, never from the role (the service's policy decides, the role is only shown).
export const LibrariesDocument = graphql(`
  query Libraries {
    libraries {
      qualifier
      name
      kind
      teamId
      role
      elementCount
      elementLimit
      viewerCan {
        view
        use
        edit
        downloadVoice
        export
      }
    }
  }
`);

export type LibraryInfo = LibrariesQuery["libraries"][number];

export const PERSONAL = "me";

export const ROLE_LABELS: Record<TeamRole, string> = {
  OWNER: "Owner",
  ADMIN: "Admin",
  EDITOR: "Editor",
  VIEWER: "Viewer",
};

/** What each role may do, in a sentence (shown beside the role pickers; the service decides). */
export const ROLE_HINTS: Record<TeamRole, string> = {
  OWNER: "Everything, including owners, renaming and deleting the team",
  ADMIN: "Edit elements, invite and remove members, change roles (not owners)",
  EDITOR: "Create, edit and delete elements, download voices",
  VIEWER: "Use elements in prompts and export them; no changes, no voice files",
};

/** "My library", or "Studio Nine (Viewer)". */
export function libraryLabel(library: Pick<LibraryInfo, "kind" | "name" | "role">): string {
  return library.kind === "PERSONAL" ? "My library" : `${library.name} (${ROLE_LABELS[library.role]})`;
}

/** The qualifier a URL's `?library=` names: the personal library when absent, "" or "me". */
export function qualifierOf(param: string | null | undefined): string {
  const value = (param ?? "").trim().toLowerCase();
  return value || PERSONAL;
}

/** The `library` argument for the service: null for the personal library. */
export function libraryArgument(qualifier: string): string | null {
  return qualifier === PERSONAL ? null : qualifier;
}

/** `?library=<handle>` for links into a team's library ("" for the personal one). */
export function librarySearch(qualifier: string | null | undefined, prefix = "?"): string {
  return qualifier && qualifier !== PERSONAL ? `${prefix}library=${encodeURIComponent(qualifier)}` : "";
}

/** The viewer's libraries, and the one `qualifier` names (undefined while loading, null when
 * it is not theirs to see: unknown, or a team they left or were removed from). */
export function useLibraries(qualifier: string) {
  const [result, reexecute] = useQuery({
    query: LibrariesDocument,
    context: LIBRARIES_CONTEXT,
  });
  const libraries = result.data?.libraries ?? null;
  const current = libraries ? (libraries.find((l) => l.qualifier === qualifier) ?? null) : undefined;
  return { libraries, current, fetching: result.fetching, error: result.error, refresh: () => reexecute({ requestPolicy: "network-only" }) };
}

// An empty answer carries no typename: name what a team change invalidates.
const LIBRARIES_CONTEXT = { additionalTypenames: ["Library", "Team", "TeamMember", "Element"] };

/** The quota line and whether creating is blocked, for one library (the personal one adds
 * the tier's reason, which only `me` knows). */
export function quotaOf(library: LibraryInfo, personalReason?: string | null): { text: string; full: boolean; reason: string | null } {
  const full = library.elementCount >= library.elementLimit;
  const text = `${library.elementCount} of ${library.elementLimit} elements`;
  if (library.kind === "PERSONAL") return { text, full, reason: personalReason ?? null };
  return {
    text,
    full,
    reason: full
      ? `${library.name}'s library is full (${library.elementLimit} elements, the best limit among its owners): delete some, or an owner upgrades.`
      : null,
  };
}

/** Why the viewer can't add elements to this library, or null when they can. */
export function createBlockedReason(library: LibraryInfo, personalReason?: string | null, personalCanCreate = true): string | null {
  if (!library.viewerCan.edit)
    return `You are a ${ROLE_LABELS[library.role].toLowerCase()} in ${library.name}: you can use and export its elements, not add or change them. Ask an owner or admin for the editor role.`;
  if (library.kind === "PERSONAL") return personalCanCreate ? null : (personalReason ?? "Your library is full.");
  return quotaOf(library).reason;
}
