import { screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import Jobs from "./Jobs";

function node(status: string, progress: number, outputs: unknown[] = []) {
  return {
    __typename: "GenerationJobEdge",
    node: {
      __typename: "GenerationJob",
      id: "J1",
      kind: "GENERATION",
      model: "VIDEO_3_0",
      prompt: "Shot 1 (3s): A red apple on a table. Shot 2 (2s): [@Ada] waves.",
      status,
      progress,
      stalled: false,
      duration: 5,
      aspectRatio: "16:9",
      createdAt: "2026-12-06T00:00:00Z",
      errorMessage: "",
      outputs,
    },
  };
}

const page = (edges: unknown[]) => ({
  generationJobs: {
    __typename: "GenerationJobConnection",
    totalCount: edges.length,
    pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: "c1" },
    edges,
  },
});

describe("Jobs", { timeout: 20_000 }, () => {
  it("follows a running job to its end, then stops asking", async () => {
    let reads = 0;
    const { client, calls } = fakeClient(() => {
      reads += 1;
      return page([reads < 3 ? node("RUNNING", reads * 40) : node("SUCCEEDED", 100, [{ __typename: "GenerationOutput", id: "O1", kind: "VIDEO", thumbnailUrl: "/t.jpg" }])]);
    });
    renderWith(<Jobs />, client, "/jobs");
    const card = await screen.findByTestId("job-card");
    expect(card.getAttribute("href")).toBe("/jobs/J1");
    expect(within(card).getByText("A red apple on a table. Ada waves.")).toBeTruthy();
    expect(within(card).getByRole("progressbar").getAttribute("aria-valuenow")).toBe("40");
    await waitFor(() => expect(within(screen.getByTestId("job-card")).getByText("Done")).toBeTruthy(), { timeout: 6000 });
    expect(within(screen.getByTestId("job-card")).queryByRole("progressbar")).toBeNull();
    const asked = calls.length;
    await new Promise((r) => setTimeout(r, 2500));
    expect(calls.length).toBe(asked);
    expect(calls[0].variables).toEqual({ first: 20, after: null });
  });

  it("says what to do when there are no jobs", async () => {
    const { client } = fakeClient(() => page([]));
    renderWith(<Jobs />, client, "/jobs");
    expect(await screen.findByRole("heading", { name: "No jobs yet" })).toBeTruthy();
    expect(screen.getByRole("link", { name: /Create a video/ }).getAttribute("href")).toBe("/create");
  });
});
