import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { opName } from "../test/libraries";
import { fakeClient, renderWith } from "../test/render";
import Teams, { handleFrom } from "./Teams";

const page = (teams: unknown[], invitations: unknown[] = []) => ({ teams, myInvitations: invitations });
const invitation = {
  __typename: "TeamInvitation",
  id: "SW52OjE=",
  teamName: "Studio Nine",
  teamHandle: "studio-nine",
  invitedBy: "ana",
  role: "VIEWER",
  createdAt: "2026-12-02T10:00:00Z",
};

function renderTeams(answer: (name: string | undefined, variables: Record<string, unknown>) => unknown) {
  const fake = fakeClient(({ query, variables }) => {
    const name = opName(query);
    if (name === "Viewer") return { me: null };
    return answer(name, variables);
  });
  renderWith(
    <SessionProvider>
      <Routes>
        <Route path="/teams" element={<Teams />} />
        <Route path="/teams/:handle" element={<p>Team page</p>} />
      </Routes>
    </SessionProvider>,
    fake.client,
    "/teams",
  );
  return fake;
}

describe("Teams", () => {
  it("proposes a handle from the name", () => {
    expect(handleFrom("Studio Nine!")).toBe("studio-nine");
    expect(handleFrom("  Café  Crème ")).toBe("cafe-creme");
  });

  it("lists my teams with my role and the member count, and says what to do when there are none", async () => {
    renderTeams(() =>
      page([
        { __typename: "Team", id: "T1", name: "Studio Nine", handle: "studio-nine", viewerRole: "ADMIN", members: [{ __typename: "TeamMember", id: "1" }, { __typename: "TeamMember", id: "2" }] },
      ]),
    );
    const link = await screen.findByRole("link", { name: "Studio Nine, Admin, 2 members" });
    expect(link.getAttribute("href")).toBe("/teams/studio-nine");
    expect(screen.queryByRole("region", { name: /Invitations/ })).toBeNull();
  });

  it("shows the service's refusal of a new team at the field it names", async () => {
    const user = userEvent.setup();
    const { calls } = renderTeams((name) =>
      name === "TeamCreate"
        ? {
            teamCreate: {
              __typename: "OperationInfo",
              messages: [{ __typename: "OperationMessage", field: "handle", message: "That handle is taken.", code: "HANDLE_TAKEN" }],
            },
          }
        : page([]),
    );
    await screen.findByText("You're not in a team yet");
    await user.type(screen.getByRole("textbox", { name: "Team name" }), "Studio Nine");
    expect((screen.getByRole("textbox", { name: "Handle" }) as HTMLInputElement).value).toBe("studio-nine");
    await user.click(screen.getByRole("button", { name: "Create team" }));
    const handle = screen.getByRole("textbox", { name: "Handle" });
    await waitFor(() => expect(handle.getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getByText("That handle is taken.")).toBeTruthy();
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ input: { name: "Studio Nine", handle: "studio-nine" } });
  });

  it("refuses a malformed handle before asking, with the hint", async () => {
    const user = userEvent.setup();
    const { calls } = renderTeams(() => page([]));
    await screen.findByText("You're not in a team yet");
    await user.type(screen.getByRole("textbox", { name: "Team name" }), "Studio");
    await user.clear(screen.getByRole("textbox", { name: "Handle" }));
    await user.type(screen.getByRole("textbox", { name: "Handle" }), "Studio_9");
    await user.click(screen.getByRole("button", { name: "Create team" }));
    expect(await screen.findByText(/“Studio_9” won't do: Lower-case letters, digits and hyphens/)).toBeTruthy();
    expect(calls.filter((c) => c.kind === "mutation")).toHaveLength(0);
  });

  it("lists invitations to me; Accept joins and opens the team", async () => {
    const user = userEvent.setup();
    const { calls } = renderTeams((name) =>
      name === "TeamInvitationAccept" ? { teamInvitationAccept: { __typename: "TeamResult" } } : page([], [invitation]),
    );
    const item = await screen.findByRole("listitem", { name: "Invitation to Studio Nine" });
    expect(item.textContent).toContain("ana invited you");
    expect(within(item).getByText("Viewer")).toBeTruthy();
    await user.click(within(item).getByRole("button", { name: "Accept the invitation to Studio Nine" }));
    await screen.findByText("Team page");
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ input: { invitation: "SW52OjE=" } });
  });
});
