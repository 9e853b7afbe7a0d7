import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { fakeClient, renderWith } from "../test/render";
import Likeness from "./Likeness";

type Op = { kind: string; query: unknown; variables: Record<string, unknown> };
const nameOf = (op: Op) => (op.query as { definitions: { name?: { value: string } }[] }).definitions[0].name?.value;

const connection = (typename: string, nodes: object[]) => ({
  __typename: typename,
  edges: nodes.map((node) => ({ __typename: `${typename}Edge`, node })),
});

const match = (state: string) => ({
  __typename: "LikenessMatch",
  id: "M1",
  state,
  elementName: "Commander",
  elementStatus: state === "ALLOWED" ? "ACTIVE" : "HELD",
  elementOwnerName: "Bob B.",
  elementThumbnailUrl: "/t.jpg",
  usage: { __typename: "LikenessUsage", jobs: 2, sharedWorks: 1, recreations: 0 },
});

const console_ = (likeness: object | null, matches: object[], grants: object[] = []) => ({
  myLikeness: likeness,
  likenessMatches: connection("LikenessMatchConnection", matches),
  likenessGrants: connection("LikenessGrantConnection", grants),
});

const active = { __typename: "Likeness", id: "L1", status: "ACTIVE", progress: 100, failureCode: "", failureMessage: "" };

function render(respond: (op: Op) => unknown) {
  const fake = fakeClient((op) => (nameOf(op) === "Viewer" ? { me: null } : respond(op)));
  renderWith(
    <SessionProvider>
      <Likeness />
    </SessionProvider>,
    fake.client,
    "/likeness",
  );
  return fake;
}

describe("Likeness", { timeout: 20_000 }, () => {
  it("shows a fresh phrase to say, then sends the video for the check", async () => {
    const { calls } = render((op) => {
      switch (nameOf(op)) {
        case "LikenessConsole":
          return console_(null, []);
        case "LikenessChallengeStart":
          return { likenessChallengeStart: { __typename: "LikenessChallenge", id: "C1", phrase: "apple river green morning table", expiresAt: "2026-12-06T05:00:00Z" } };
        case "LikenessClaim":
          return { likenessClaim: { __typename: "Likeness", id: "L1", status: "PROCESSING", progress: 0 } };
      }
    });
    fireEvent.click(await screen.findByRole("button", { name: "Show me a phrase" }));
    expect((await screen.findByTestId("likeness-phrase")).textContent).toBe("“apple river green morning table”");
    fireEvent.click(screen.getByRole("button", { name: "Send for the check" }));
    expect(await screen.findByText("Choose your video first.")).toBeTruthy();
    const input = screen.getByLabelText("Selfie video file") as HTMLInputElement;
    const video = new File([new Uint8Array([0, 0, 0, 24])], "me.mp4", { type: "video/mp4" });
    fireEvent.change(input, { target: { files: [video] } });
    await screen.findByText("me.mp4");
    fireEvent.click(screen.getByRole("button", { name: "Send for the check" }));
    await waitFor(() => expect(calls.some((c) => c.kind === "mutation" && (c.variables.input as { challengeId?: string })?.challengeId === "C1")).toBe(true));
  });

  it("says why a claim failed, by its code", async () => {
    render(() =>
      console_({ ...active, status: "FAILED", failureCode: "LIKENESS_STILL_IMAGE", failureMessage: "Nothing moves in the video." }, []),
    );
    const alert = await screen.findByRole("alert");
    expect(within(alert).getByText("Nothing moved: this looks like a filmed photo")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Show me a phrase" })).toBeTruthy();
  });

  it("lets the owner allow or decline a held element, and withdraw a permission", async () => {
    const { calls } = render((op) => {
      switch (nameOf(op)) {
        case "LikenessConsole":
          return console_(active, [match("HELD")], [{ __typename: "LikenessGrant", id: "G1", everyone: false, granteeName: "Cy" }]);
        case "LikenessAllowUser":
          return { likenessAllowUser: { __typename: "LikenessGrant", id: "G2" } };
        case "LikenessDecline":
          return { likenessDecline: { __typename: "OperationInfo", messages: [{ __typename: "OperationMessage", field: "matchId", message: "Only a held element can be declined.", code: "MATCH_NOT_HELD" }] } };
        case "LikenessGrantWithdraw":
          return { likenessGrantWithdraw: { __typename: "LikenessWithdrawResult", heldAgain: 1 } };
      }
    });
    const card = await screen.findByRole("article", { name: "Element Commander" });
    expect(within(card).getByText(/by Bob B\. · used in 2 jobs/)).toBeTruthy();
    expect(within(card).getByText("Held for you")).toBeTruthy();
    fireEvent.click(within(card).getByRole("button", { name: "Allow this user" }));
    await waitFor(() => expect(calls.some((c) => (c.variables.input as { matchId?: string })?.matchId === "M1")).toBe(true));
    fireEvent.click(within(card).getByRole("button", { name: "Decline" }));
    expect(await screen.findByText("Only a held element can be declined.")).toBeTruthy();
    const grant = screen.getByLabelText("Permission for Cy");
    fireEvent.click(within(grant).getByRole("button", { name: "Withdraw" }));
    await waitFor(() => expect(calls.some((c) => (c.variables.input as { grantId?: string })?.grantId === "G1")).toBe(true));
    expect(screen.getByRole("button", { name: "Allow everyone" })).toBeTruthy();
  });
});
