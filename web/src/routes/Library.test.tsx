import { screen, waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import Library from "./Library";
import { SessionProvider } from "../app/session";

const me = {
  __typename: "Me",
  username: "ada",
  displayName: "",
  isMember: false,
  tier: { __typename: "MembershipTier", code: "free", name: "Free" },
  creditBalance: 0,
  elementCount: 30,
  elementLimit: 30,
  canCreateElements: false,
  canEditElements: true,
  elementQuotaReason: "Your library is full (30 elements for your Free tier): delete some or upgrade to create more.",
  freeMultiviewUsesPerDay: 0,
  freeMultiviewUsesLeftToday: 0,
  multiviewPriceCredits: 5,
};

function page(edges: unknown[]) {
  return {
    elements: {
      __typename: "ElementConnection",
      totalCount: edges.length,
      pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null },
      edges,
    },
  };
}

describe("Library", () => {
  it("says what to do next when empty, and asks for one page of elements", async () => {
    const { client, calls } = fakeClient(({ variables }) => ("order" in variables ? page([]) : { me: { ...me, canCreateElements: true, elementQuotaReason: null, elementCount: 0 } }));
    renderWith(
      <SessionProvider>
        <Library />
      </SessionProvider>,
      client,
      "/library",
    );
    await waitFor(() => expect(screen.getByRole("heading", { name: "Your library is empty" })).toBeTruthy());
    expect(screen.getByRole("link", { name: /Create your first element/ }).getAttribute("href")).toBe("/elements/new");
    expect(calls.filter((c) => "order" in c.variables)).toHaveLength(1);
    expect(calls.find((c) => "order" in c.variables)?.variables).toMatchObject({ first: 24, after: null, order: "UPDATED_DESC" });
  });

  it("shows the quota with its reason and each element's state", async () => {
    const card = (id: string, name: string, status: string, extra: object = {}) => ({
      __typename: "ElementEdge",
      node: {
        __typename: "Element",
        id,
        name,
        type: "CHARACTER",
        status,
        source: "VIDEO",
        progress: 40,
        failureMessage: "No face was found in the window.",
        blockedReason: "",
        version: 1,
        voice: null,
        images: [],
        ...extra,
      },
    });
    const { client } = fakeClient(({ variables }) =>
      "order" in variables
        ? page([card("1", "Ada", "PROCESSING"), card("2", "Cup", "FAILED")])
        : { me },
    );
    renderWith(
      <SessionProvider>
        <Library />
      </SessionProvider>,
      client,
      "/library",
    );
    await waitFor(() => expect(screen.getByLabelText("Element quota").textContent).toContain("30 of 30 elements"));
    expect(screen.getByLabelText("Element quota").textContent).toContain("Your library is full");
    expect(screen.getByRole("link", { name: "Ada, Character, processing" })).toBeTruthy();
    expect(screen.getByLabelText("Processing, 40%")).toBeTruthy();
    expect(screen.getByText("No face was found in the window.")).toBeTruthy();
    expect(screen.getByRole("link", { name: /Create element/ }).getAttribute("data-disabled")).toBe("true");
  });
});
