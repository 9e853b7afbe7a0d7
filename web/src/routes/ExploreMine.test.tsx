import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import ExploreMine from "./ExploreMine";

function mine(id: string, title: string, status: string, extra: object = {}) {
  return {
    __typename: "MySharedWorkEdge",
    node: {
      __typename: "MySharedWork",
      id,
      title,
      caption: "",
      model: "IMAGE_O1",
      status,
      hiddenReason: "",
      recreateCount: 2,
      createdAt: "2026-12-01T10:00:00Z",
      unsharedAt: null,
      output: { __typename: "GenerationOutput", id: `O${id}`, kind: "IMAGE", posterUrl: `/media/${id}.jpg` },
      public: status === "APPROVED" ? { __typename: "ExploreWork", id: `P${id}` } : null,
      ...extra,
    },
  };
}

const page = (edges: unknown[]) => ({
  exploreMyWorks: {
    __typename: "MySharedWorkConnection",
    pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null },
    edges,
  },
});

describe("My shared works", () => {
  it("shows each work's moderation state, a hide's reason, and unshares after confirming", async () => {
    const { client, calls } = fakeClient(({ kind, variables }) =>
      kind === "mutation"
        ? {
            exploreUnshare: {
              __typename: "ExploreShareResult",
              work: { __typename: "MySharedWork", id: variables.id, unsharedAt: "2026-12-02T10:00:00Z", public: null },
            },
          }
        : page([
            mine("1", "Lunch", "APPROVED"),
            mine("2", "Sunset", "HIDDEN", { hiddenReason: "Not yours to share." }),
            mine("3", "Dawn", "PENDING"),
          ]),
    );
    renderWith(<ExploreMine />, client, "/explore/mine");
    const lunch = await screen.findByRole("article", { name: "Lunch" });
    expect(within(lunch).getByText("In the feed")).toBeTruthy();
    expect(within(lunch).getByRole("link", { name: "Open" }).getAttribute("href")).toBe("/explore/P1");
    const sunset = screen.getByRole("article", { name: "Sunset" });
    expect(within(sunset).getAllByText("Hidden by moderation").length).toBeGreaterThan(0);
    expect(within(sunset).getByText(/Not yours to share\./)).toBeTruthy();
    expect(within(screen.getByRole("article", { name: "Dawn" })).getByText("Waiting for approval")).toBeTruthy();

    await userEvent.click(within(lunch).getByRole("button", { name: "Unshare" }));
    const dialog = await screen.findByRole("dialog");
    expect(calls.filter((c) => c.kind === "mutation")).toHaveLength(0);
    await userEvent.click(within(dialog).getByRole("button", { name: "Unshare" }));
    await waitFor(() => expect(within(lunch).getByText("Unshared")).toBeTruthy());
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ id: "1" });
    expect(within(lunch).queryByRole("button", { name: "Unshare" })).toBeNull();
  });

  it("says what to do when nothing is shared", async () => {
    const { client } = fakeClient(() => page([]));
    renderWith(<ExploreMine />, client, "/explore/mine");
    await screen.findByRole("heading", { name: "You haven't shared anything yet" });
  });
});
