import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import Explore from "./Explore";

function work(id: string, title: string, recreateCount: number, extra: object = {}) {
  return {
    __typename: "ExploreWorkEdge",
    node: {
      __typename: "ExploreWork",
      id,
      title,
      authorName: `Author of ${title}`,
      model: "VIDEO_3_0_OMNI",
      outputKind: "VIDEO",
      recreateCount,
      output: { __typename: "ExploreOutput", kind: "VIDEO", durationMs: 4000, posterUrl: `/media/${id}.jpg` },
      ...extra,
    },
  };
}

function feed(edges: unknown[], endCursor: string | null = null) {
  return {
    exploreFeed: {
      __typename: "ExploreWorkConnection",
      pageInfo: { __typename: "PageInfo", hasNextPage: !!endCursor, endCursor },
      edges,
    },
  };
}

const feedCalls = (calls: { variables: Record<string, unknown> }[]) => calls.filter((c) => "order" in c.variables);
const cardNames = () => screen.getAllByTestId("explore-card").map((c) => c.getAttribute("aria-label"));

describe("Explore feed", () => {
  it("shows each work as a card linking to its page, newest first by default", async () => {
    const { client, calls } = fakeClient(() => feed([work("W1", "Lunch", 1), work("W2", "Sunset", 0)]));
    renderWith(<Explore />, client, "/explore");
    const lunch = await screen.findByRole("link", { name: /Lunch/ });
    expect(lunch.getAttribute("href")).toBe("/explore/W1");
    expect(lunch.getAttribute("aria-label")).toBe("Lunch, by Author of Lunch, 1 recreation");
    expect(within(lunch).getByText("Author of Lunch")).toBeTruthy();
    expect(within(lunch).getByText("0:04")).toBeTruthy();
    expect(cardNames()).toEqual(["Lunch, by Author of Lunch, 1 recreation", "Sunset, by Author of Sunset, 0 recreations"]);
    expect(feedCalls(calls)).toHaveLength(1);
    expect(feedCalls(calls)[0].variables).toMatchObject({ order: "NEWEST", model: null, outputKind: null, first: 24, after: null });
    expect(screen.getByRole("link", { name: /My shared works/ }).getAttribute("href")).toBe("/explore/mine");
  });

  it("asks again most recreated first, and keeps the service's order", async () => {
    const { client, calls } = fakeClient(({ variables }) =>
      variables.order === "MOST_RECREATED"
        ? feed([work("W2", "Sunset", 9), work("W1", "Lunch", 1)])
        : feed([work("W1", "Lunch", 1), work("W2", "Sunset", 9)]),
    );
    renderWith(<Explore />, client, "/explore");
    await screen.findByRole("link", { name: /Lunch/ });
    expect(cardNames()[0]).toMatch(/^Lunch/);
    await userEvent.click(screen.getByRole("radio", { name: "Most recreated" }));
    await waitFor(() => expect(cardNames()[0]).toMatch(/^Sunset/));
    expect(cardNames()).toEqual(["Sunset, by Author of Sunset, 9 recreations", "Lunch, by Author of Lunch, 1 recreation"]);
    expect(feedCalls(calls).at(-1)?.variables).toMatchObject({ order: "MOST_RECREATED", after: null });
  });

  it("filters by kind and model from the address, and says so when nothing matches", async () => {
    const { client, calls } = fakeClient(() => feed([]));
    renderWith(<Explore />, client, "/explore?kind=IMAGE&model=IMAGE_O1&order=MOST_RECREATED");
    await screen.findByRole("heading", { name: "No works match" });
    expect(feedCalls(calls)[0].variables).toMatchObject({ order: "MOST_RECREATED", model: "IMAGE_O1", outputKind: "IMAGE" });
    await userEvent.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(feedCalls(calls).at(-1)?.variables).toMatchObject({ model: null, outputKind: null, order: "MOST_RECREATED" }));
  });

  it("has an empty state that says what to do next", async () => {
    const { client } = fakeClient(() => feed([]));
    renderWith(<Explore />, client, "/explore");
    await screen.findByRole("heading", { name: "Nothing shared yet" });
    expect(screen.getByRole("link", { name: /Create something/ }).getAttribute("href")).toBe("/create");
    expect(screen.queryByLabelText("Loading works")).toBeNull();
  });

  it("loads the next page after the cursor and appends it", async () => {
    const { client, calls } = fakeClient(({ variables }) =>
      variables.after === "c1" ? feed([work("W3", "Third", 0)]) : feed([work("W1", "Lunch", 2), work("W2", "Sunset", 1)], "c1"),
    );
    renderWith(<Explore />, client, "/explore");
    await userEvent.click(await screen.findByRole("button", { name: "Load more" }));
    await screen.findByRole("link", { name: /Third/ });
    expect(cardNames()).toHaveLength(3);
    expect(feedCalls(calls).at(-1)?.variables).toMatchObject({ after: "c1", first: 24 });
    expect(screen.queryByRole("button", { name: "Load more" })).toBeNull();
  });

  it("shows an error where the feed would be", async () => {
    const { client } = fakeClient(() => null);
    renderWith(<Explore />, client, "/explore");
    await screen.findByRole("alert");
    expect(screen.getByText("The feed could not load")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Try again" })).toBeTruthy();
  });
});
