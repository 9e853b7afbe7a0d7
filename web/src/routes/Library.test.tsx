import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation } from "react-router";
import { describe, expect, it } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import { CAN_ALL, CAN_USE_ONLY, opName, personalLibrary, teamLibrary } from "../test/libraries";
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
    libraryQualifier: "me",
    viewerCan: CAN_ALL,
    voice: null,
    images: [],
    ...extra,
  },
});

/** Where the screen has put the router: the switcher keeps its choice in `?library=`. */
function Where() {
  const location = useLocation();
  return <output data-testid="where">{location.pathname + location.search}</output>;
}

function renderLibrary(respond: (name: string | undefined, variables: Record<string, unknown>) => unknown, route = "/library") {
  const fake = fakeClient(({ query, variables }) => respond(opName(query), variables));
  renderWith(
    <SessionProvider>
      <Library />
      <Where />
    </SessionProvider>,
    fake.client,
    route,
  );
  return fake;
}

describe("Library", () => {
  it("says what to do next when empty, and asks for one page of elements", async () => {
    const { calls } = renderLibrary((name) =>
      name === "LibraryPage"
        ? page([])
        : name === "Libraries"
          ? { libraries: [personalLibrary({ elementCount: 0 })] }
          : { me: { ...me, canCreateElements: true, elementQuotaReason: null, elementCount: 0 } },
    );
    await waitFor(() => expect(screen.getByRole("heading", { name: "Your library is empty" })).toBeTruthy());
    expect(screen.getByRole("link", { name: /Create your first element/ }).getAttribute("href")).toBe("/elements/new");
    expect(calls.filter((c) => "order" in c.variables)).toHaveLength(1);
    expect(calls.find((c) => "order" in c.variables)?.variables).toMatchObject({ first: 24, after: null, order: "UPDATED_DESC", library: null });
  });

  it("shows the quota with its reason and each element's state", async () => {
    renderLibrary((name) =>
      name === "LibraryPage"
        ? page([card("1", "Ada", "PROCESSING"), card("2", "Cup", "FAILED")])
        : name === "Libraries"
          ? { libraries: [personalLibrary({ elementCount: 30, elementLimit: 30 })] }
          : { me },
    );
    await waitFor(() => expect(screen.getByLabelText("Element quota").textContent).toContain("30 of 30 elements"));
    expect(screen.getByLabelText("Element quota").textContent).toContain("Your library is full");
    expect(screen.getByRole("link", { name: "Ada, Character, processing" })).toBeTruthy();
    expect(screen.getByLabelText("Processing, 40%")).toBeTruthy();
    expect(screen.getByText("No face was found in the window.")).toBeTruthy();
    expect(screen.getByRole("link", { name: /Create element/ }).getAttribute("data-disabled")).toBe("true");
  });
});

describe("Library switcher", () => {
  const teamCard = card("T1", "Hero", "ACTIVE", {
    libraryQualifier: "studio-nine",
    viewerCan: CAN_USE_ONLY,
    source: "IMAGE",
    voice: { __typename: "Voice", id: "V1", name: "Deep", audioUrl: null },
  });
  const respond = (name: string | undefined, variables: Record<string, unknown>) => {
    if (name === "Viewer") return { me: { ...me, canCreateElements: true, elementQuotaReason: null, elementCount: 2 } };
    if (name === "Libraries") return { libraries: [personalLibrary(), teamLibrary("VIEWER")] };
    if (name === "LibraryPage") return variables.library === "studio-nine" ? page([teamCard]) : page([card("1", "Ada", "ACTIVE")]);
    return undefined;
  };

  it("lists my library and each team with my role, and a choice goes to the URL and the query", async () => {
    const user = userEvent.setup();
    const { calls } = renderLibrary(respond);
    await screen.findByRole("link", { name: "Ada, Character" });
    const picker = screen.getByRole("combobox", { name: "Library" });
    expect((picker as HTMLInputElement).value).toBe("My library");
    await user.click(picker);
    const options = await optionsOf(picker);
    expect(options.map((o) => o.textContent)).toEqual(["My library", "Studio Nine (Viewer)"]);
    await user.click(screen.getByRole("option", { name: "Studio Nine (Viewer)", hidden: true }));

    await screen.findByRole("link", { name: "Hero, Character, view only" });
    expect(screen.getByTestId("where").textContent).toBe("/library?library=studio-nine");
    expect(calls.filter((c) => isPageCall(c) && c.variables.library === "studio-nine")).not.toHaveLength(0);
    expect(screen.getByLabelText("Element quota").textContent).toBe("1 of 50 elements");
  });

  it("opened from the URL (a reload), a viewer sees why they can't add, change or play voices", async () => {
    const { calls } = renderLibrary(respond, "/library?library=studio-nine");
    const hero = await screen.findByRole("link", { name: "Hero, Character, view only" });
    expect(calls.find((c) => "order" in c.variables)?.variables).toMatchObject({ library: "studio-nine" });
    await waitFor(() => expect((screen.getByRole("combobox", { name: "Library" }) as HTMLInputElement).value).toBe("Studio Nine (Viewer)"));
    // Only through the element's flags: it says view only, its voice names itself but won't play.
    expect(within(hero).getByText("View only")).toBeTruthy();
    expect(within(hero).getByLabelText("Voice Deep (your role can't play it)")).toBeTruthy();
    expect(within(hero).queryByRole("button", { name: /Play voice/ })).toBeNull();
    // New elements and imports are refused with the reason; export stays open to viewers.
    const create = screen.getByRole("link", { name: /Create element/ });
    expect(create.getAttribute("data-disabled")).toBe("true");
    expect(screen.getByLabelText("Your role").textContent).toMatch(/You are a viewer in Studio Nine: you can use and export its elements, not add or change them/);
    expect((screen.getByRole("button", { name: "Import" }) as HTMLButtonElement).disabled).toBe(true);
    expect((screen.getByRole("button", { name: "Export" }) as HTMLButtonElement).disabled).toBe(false);
    expect(screen.getByRole("link", { name: /From a video/ }).getAttribute("data-disabled")).toBe("true");
  });

  it("an editor in the team may add: the new element goes to the team's library", async () => {
    renderLibrary((name, variables) =>
      name === "Libraries" ? { libraries: [personalLibrary(), teamLibrary("EDITOR")] } : respond(name, variables),
    "/library?library=studio-nine");
    await screen.findByRole("link", { name: "Hero, Character, view only" });
    await waitFor(() => expect(screen.getByRole("link", { name: /Create element/ }).getAttribute("data-disabled")).toBeNull());
    expect(screen.getByRole("link", { name: /Create element/ }).getAttribute("href")).toBe("/elements/new?library=studio-nine");
    expect(screen.queryByLabelText("Your role")).toBeNull();
  });

  it("a team I am no longer in is not offered, and its URL says so", async () => {
    const user = userEvent.setup();
    renderLibrary(
      (name, variables) => (name === "Libraries" ? { libraries: [personalLibrary()] } : respond(name, variables)),
      "/library?library=studio-nine",
    );
    await screen.findByRole("heading", { name: "This library isn't available" });
    const picker = screen.getByRole("combobox", { name: "Library" });
    await user.click(picker);
    expect((await optionsOf(picker)).map((o) => o.textContent)).toEqual(["My library"]);
    await user.click(screen.getByRole("button", { name: "Open my library" }));
    await screen.findByRole("link", { name: "Ada, Character" });
    expect(screen.getByTestId("where").textContent).toBe("/library");
  });
});

/** The options of one Mantine Select (every Select of the page keeps its list mounted). */
async function optionsOf(picker: HTMLElement): Promise<HTMLElement[]> {
  await waitFor(() => expect(picker.getAttribute("aria-controls")).toBeTruthy());
  const list = document.getElementById(picker.getAttribute("aria-controls")!)!;
  return within(list).getAllByRole("option", { hidden: true });
}

const isPageCall = (c: { variables: Record<string, unknown> }) => "order" in c.variables;
