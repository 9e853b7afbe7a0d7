import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { opName, personalLibrary, teamLibrary } from "../test/libraries";
import { fakeClient, renderWith } from "../test/render";
import TeamPage from "./TeamPage";

const me = {
  __typename: "Me",
  username: "ana",
  displayName: "",
  isMember: false,
  tier: { __typename: "MembershipTier", code: "free", name: "Free" },
  creditBalance: 0,
  elementCount: 0,
  elementLimit: 30,
  canCreateElements: true,
  canEditElements: true,
  elementQuotaReason: null,
  freeMultiviewUsesPerDay: 0,
  freeMultiviewUsesLeftToday: 0,
  multiviewPriceCredits: 5,
};

type Role = "OWNER" | "ADMIN" | "EDITOR" | "VIEWER";

const member = (id: string, username: string, role: Role, isViewer = false) => ({
  __typename: "TeamMember",
  id,
  username,
  role,
  joinedAt: "2026-12-01T10:00:00Z",
  isViewer,
});

/** The team as the service shows it to `viewer`: the flags are the service's, per role. */
function team(viewer: Role, can: Partial<Record<string, boolean>> = {}) {
  const flags = {
    OWNER: { manageMembers: true, changeRoles: true, manageOwners: true, deleteTeam: true, edit: true, leave: true },
    ADMIN: { manageMembers: true, changeRoles: true, manageOwners: false, deleteTeam: false, edit: false, leave: true },
    EDITOR: { manageMembers: false, changeRoles: false, manageOwners: false, deleteTeam: false, edit: false, leave: true },
    VIEWER: { manageMembers: false, changeRoles: false, manageOwners: false, deleteTeam: false, edit: false, leave: true },
  }[viewer];
  const others = [member("M1", "ana", "OWNER"), member("M2", "ben", "VIEWER"), member("M3", "cy", "ADMIN")].filter(
    (m) => !(viewer === "OWNER" && m.username === "ana") && !(viewer === "ADMIN" && m.username === "cy") && !(viewer === "VIEWER" && m.username === "ben"),
  );
  const self = member("MS", viewer === "OWNER" ? "ana" : viewer === "ADMIN" ? "cy" : "ben", viewer, true);
  return {
    __typename: "Team",
    id: "VGVhbTox",
    name: "Studio Nine",
    handle: "studio-nine",
    createdAt: "2026-12-01T10:00:00Z",
    viewerRole: viewer,
    viewerCan: { __typename: "TeamPermissions", ...flags, ...can },
    members: [self, ...others],
    invitations: flags.manageMembers
      ? [
          {
            __typename: "TeamInvitation",
            id: "SW52OjE=",
            invitee: "dee",
            role: "EDITOR",
            status: "PENDING",
            invitedBy: "ana",
            createdAt: "2026-12-02T10:00:00Z",
          },
        ]
      : [],
  };
}

function renderTeam(answer: (name: string | undefined, variables: Record<string, unknown>) => unknown) {
  const fake = fakeClient(({ query, variables }) => {
    const name = opName(query);
    if (name === "Viewer") return { me };
    if (name === "Libraries") return { libraries: [personalLibrary(), teamLibrary("OWNER", { elementCount: 3 })] };
    return answer(name, variables);
  });
  renderWith(
    <SessionProvider>
      <Routes>
        <Route path="/teams/:handle" element={<TeamPage />} />
        <Route path="/teams" element={<p>Teams list</p>} />
      </Routes>
    </SessionProvider>,
    fake.client,
    "/teams/studio-nine",
  );
  return fake;
}

const ok = (field: string) => ({ [field]: { __typename: "TeamDeleteResult", deletedId: "x" } });
const mutations = (calls: { kind: string; variables: Record<string, unknown> }[]) => calls.filter((c) => c.kind === "mutation");

describe("Team page", () => {
  it("an owner changes roles (owners too), removes with confirmation, invites and cancels", async () => {
    const user = userEvent.setup();
    const { calls } = renderTeam((name) => {
      if (name === "TeamPage") return { team: team("OWNER") };
      if (name === "TeamMemberRemove") return ok("teamMemberRemove");
      if (name === "TeamMemberRoleChange") return { teamMemberRoleChange: { __typename: "TeamMemberResult" } };
      if (name === "TeamInvite") return { teamInvite: { __typename: "TeamInvitationResult" } };
      if (name === "TeamInvitationCancel") return { teamInvitationCancel: { __typename: "TeamInvitationResult" } };
      return undefined;
    });
    const table = await screen.findByRole("table", { name: "Members" });
    expect(within(table).getAllByRole("row")).toHaveLength(4);
    // No select for myself; one per other member, with Owner offered (I may manage owners).
    expect(screen.queryByRole("combobox", { name: "Role of ana" })).toBeNull();
    const benRole = screen.getByRole("combobox", { name: "Role of ben" });
    expect(within(benRole).getAllByRole("option").map((o) => o.textContent)).toEqual(["Viewer", "Editor", "Admin", "Owner"]);
    await user.selectOptions(benRole, "EDITOR");
    await waitFor(() => expect(mutations(calls).at(-1)?.variables).toEqual({ input: { member: "M2", role: "EDITOR" } }));

    await user.click(screen.getByRole("button", { name: "Remove ben" }));
    const dialog = await screen.findByRole("dialog", { name: "Remove ben from Studio Nine?" });
    await user.click(within(dialog).getByRole("button", { name: "Remove member" }));
    await waitFor(() => expect(mutations(calls).at(-1)?.variables).toEqual({ input: { member: "M2" } }));

    const invite = screen.getByRole("region", { name: "Invite someone" });
    await user.type(within(invite).getByRole("textbox", { name: "Username" }), "eve");
    await user.selectOptions(within(invite).getByRole("combobox", { name: "Role" }), "VIEWER");
    await user.click(within(invite).getByRole("button", { name: "Invite" }));
    await waitFor(() =>
      expect(mutations(calls).at(-1)?.variables).toEqual({ input: { team: "VGVhbTox", username: "eve", role: "VIEWER" } }),
    );
    expect(await within(invite).findByText(/eve is invited as viewer/)).toBeTruthy();

    const pending = screen.getByRole("list", { name: "Pending invitations" });
    expect(within(pending).getByText("dee")).toBeTruthy();
    await user.click(within(pending).getByRole("button", { name: "Cancel the invitation of dee" }));
    await waitFor(() => expect(mutations(calls).at(-1)?.variables).toEqual({ input: { invitation: "SW52OjE=" } }));

    // Owners' own controls.
    for (const name of ["Rename team", "Transfer ownership", "Leave team", "Delete team"])
      expect(screen.getByRole("button", { name })).toBeTruthy();
  });

  it("an admin changes roles below owner only, and has no owner's controls", async () => {
    renderTeam((name) => (name === "TeamPage" ? { team: team("ADMIN") } : undefined));
    await screen.findByRole("table", { name: "Members" });
    expect(screen.queryByRole("combobox", { name: "Role of ana" })).toBeNull(); // an owner
    expect(screen.queryByRole("button", { name: "Remove ana" })).toBeNull();
    const benRole = screen.getByRole("combobox", { name: "Role of ben" });
    expect(within(benRole).getAllByRole("option").map((o) => o.textContent)).toEqual(["Viewer", "Editor", "Admin"]);
    expect(screen.getByRole("button", { name: "Remove ben" })).toBeTruthy();
    expect(screen.getByRole("region", { name: "Invite someone" })).toBeTruthy();
    for (const name of ["Rename team", "Transfer ownership", "Delete team"]) expect(screen.queryByRole("button", { name })).toBeNull();
    expect(screen.getByRole("button", { name: "Leave team" })).toBeTruthy();
  });

  it("a viewer sees the members and roles, and may only leave", async () => {
    renderTeam((name) => (name === "TeamPage" ? { team: team("VIEWER") } : undefined));
    const table = await screen.findByRole("table", { name: "Members" });
    expect(within(table).queryAllByRole("combobox")).toHaveLength(0);
    expect(within(table).queryAllByRole("button")).toHaveLength(0);
    expect(screen.queryByRole("region", { name: "Invite someone" })).toBeNull();
    expect(screen.queryByRole("region", { name: "Pending invitations" })).toBeNull();
    expect(screen.getByLabelText("Your role: Viewer")).toBeTruthy();
    for (const name of ["Rename team", "Transfer ownership", "Delete team"]) expect(screen.queryByRole("button", { name })).toBeNull();
    expect(screen.getByRole("button", { name: "Leave team" })).toBeTruthy();
  });

  it("leaving as the last owner shows the LAST_OWNER refusal with what to do", async () => {
    const user = userEvent.setup();
    renderTeam((name) => {
      if (name === "TeamPage") return { team: team("OWNER") };
      if (name === "TeamLeave")
        return {
          teamLeave: {
            __typename: "OperationInfo",
            messages: [{ __typename: "OperationMessage", field: "team", message: "You are the team's last owner.", code: "LAST_OWNER" }],
          },
        };
      return undefined;
    });
    await user.click(await screen.findByRole("button", { name: "Leave team" }));
    const dialog = await screen.findByRole("dialog", { name: "Leave Studio Nine?" });
    await user.click(within(dialog).getByRole("button", { name: "Leave team" }));
    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("A team needs an owner");
    expect(alert.textContent).toContain("You are the team's last owner.");
    expect(alert.textContent).toContain("Transfer ownership");
    expect(screen.queryByText("Teams list")).toBeNull();
  });

  it("when the service says the only owner may not leave, the dialog says why before trying", async () => {
    const user = userEvent.setup();
    renderTeam((name) => (name === "TeamPage" ? { team: team("OWNER", { leave: false }) } : undefined));
    await user.click(await screen.findByRole("button", { name: "Leave team" }));
    const dialog = await screen.findByRole("dialog", { name: "Leave Studio Nine?" });
    expect(within(dialog).getByRole("alert").textContent).toContain("You are the only owner of Studio Nine");
    expect((within(dialog).getByRole("button", { name: "Leave team" }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("deleting takes the typed team name, warns that its elements go, then returns to the teams", async () => {
    const user = userEvent.setup();
    const { calls } = renderTeam((name) => {
      if (name === "TeamPage") return { team: team("OWNER") };
      if (name === "TeamDelete") return ok("teamDelete");
      return undefined;
    });
    await user.click(await screen.findByRole("button", { name: "Delete team" }));
    const dialog = await screen.findByRole("dialog", { name: "Delete Studio Nine?" });
    expect(dialog.textContent).toContain("The team's elements go with it (3 elements");
    const confirm = within(dialog).getByRole("button", { name: "Delete team" }) as HTMLButtonElement;
    expect(confirm.disabled).toBe(true);
    await user.type(within(dialog).getByRole("textbox", { name: "Type “Studio Nine” to confirm" }), "Studio Nin");
    expect(confirm.disabled).toBe(true);
    await user.type(within(dialog).getByRole("textbox", { name: "Type “Studio Nine” to confirm" }), "e");
    expect(confirm.disabled).toBe(false);
    await user.click(confirm);
    await screen.findByText("Teams list");
    expect(mutations(calls).at(-1)?.variables).toEqual({ input: { team: "VGVhbTox" } });
  });

  it("a team I am not in is a not-found page", async () => {
    renderTeam((name) => (name === "TeamPage" ? { team: null } : undefined));
    expect(await screen.findByRole("heading", { name: "No such team" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Back to your teams" }).getAttribute("href")).toBe("/teams");
  });
});
