import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { CAN_ALL, personalLibrary } from "../test/libraries";
import { fakeClient, renderWith } from "../test/render";
import Library from "./Library";

const opName = (query: unknown) =>
  (query as { definitions: { name?: { value: string } }[] }).definitions.find((d) => d.name)?.name?.value;

const me = {
  __typename: "Me",
  username: "ada",
  displayName: "",
  isMember: false,
  tier: { __typename: "MembershipTier", code: "free", name: "Free" },
  creditBalance: 0,
  elementCount: 2,
  elementLimit: 30,
  canCreateElements: true,
  canEditElements: true,
  elementQuotaReason: null,
  freeMultiviewUsesPerDay: 0,
  freeMultiviewUsesLeftToday: 0,
  multiviewPriceCredits: 5,
};

const card = (id: string, name: string, status = "ACTIVE") => ({
  __typename: "ElementEdge",
  node: {
    __typename: "Element",
    id,
    name,
    type: "CHARACTER",
    status,
    source: "IMAGE",
    progress: 100,
    failureMessage: "",
    blockedReason: "",
    version: 1,
    libraryQualifier: "me",
    viewerCan: CAN_ALL,
    voice: null,
    images: [],
  },
});

const libraryPage = {
  elements: {
    __typename: "ElementConnection",
    totalCount: 2,
    pageInfo: { __typename: "PageInfo", hasNextPage: false, endCursor: null },
    edges: [card("RWxlbWVudDox", "Ada"), card("RWxlbWVudDoy", "Cup")],
  },
};

const exportJob = (status: string, progress: number, extra: object = {}) => ({
  __typename: "ElementExport",
  id: "RWxlbWVudEV4cG9ydDox",
  status,
  progress,
  elementCount: 1,
  size: 2_400_000,
  failureCode: "",
  failureMessage: "",
  expiresAt: null,
  downloadUrl: null,
  ...extra,
});

function renderLibrary(respond: (name: string | undefined, variables: Record<string, unknown>) => unknown) {
  const fake = fakeClient(({ query, variables }) => {
    const name = opName(query);
    if (name === "Viewer") return { me };
    if (name === "LibraryPage") return libraryPage;
    if (name === "Libraries") return { libraries: [personalLibrary()] };
    return respond(name, variables);
  });
  renderWith(
    <SessionProvider>
      <Library />
    </SessionProvider>,
    fake.client,
    "/library",
  );
  return fake;
}

describe("Library bundles", () => {
  it("exports the selected elements, follows the progress, then offers the download", async () => {
    const polls = [exportJob("RUNNING", 60), exportJob("SUCCEEDED", 100, {
      expiresAt: "2026-12-07T10:00:00+00:00",
      downloadUrl: "/media/signed/bundle.zip?sig=abc",
    })];
    const { calls } = renderLibrary((name) => {
      if (name === "ElementExportStart")
        return { elementExport: { __typename: "ElementExportResult", export: exportJob("QUEUED", 0) } };
      if (name === "ElementExportPoll") return { elementExport: polls.shift() ?? exportJob("SUCCEEDED", 100) };
      return undefined;
    });
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByRole("link", { name: "Ada, Character" })).toBeTruthy());

    await user.click(screen.getByRole("button", { name: "Select" }));
    await user.click(screen.getByRole("checkbox", { name: "Select Ada" }));
    await user.click(screen.getByRole("button", { name: /Export 1 selected/ }));

    const dialog = await screen.findByRole("dialog", { name: "Export elements" });
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ input: { ids: ["RWxlbWVudDox"] } });
    expect(within(dialog).getByRole("progressbar", { name: "Export progress, 0%" })).toBeTruthy();
    expect(within(dialog).getByText("Waiting for a worker… 0%")).toBeTruthy();

    await waitFor(() => expect(within(dialog).getByText("Writing the bundle… 60%")).toBeTruthy(), { timeout: 4000 });
    expect(within(dialog).getByRole("progressbar", { name: "Export progress, 60%" })).toBeTruthy();

    const link = await within(dialog).findByRole("link", { name: "Download bundle" }, { timeout: 5000 });
    expect(link.getAttribute("href")).toBe("/media/signed/bundle.zip?sig=abc");
    expect(link.getAttribute("download")).toMatch(/^elements-\d{4}-\d{2}-\d{2}\.zip$/);
    expect(within(dialog).getByText(/Kept until/)).toBeTruthy();
    expect(within(dialog).queryByRole("progressbar")).toBeNull();
    expect(calls.filter((c) => c.kind === "query" && c.variables.id === "RWxlbWVudEV4cG9ydDox")).toHaveLength(2);
  }, 12_000);

  it("exports the whole library when nothing is selected, and shows a typed refusal", async () => {
    const { calls } = renderLibrary((name) =>
      name === "ElementExportStart"
        ? {
            elementExport: {
              __typename: "OperationInfo",
              messages: [
                {
                  __typename: "OperationMessage",
                  field: "all",
                  code: "ELEMENT_NOT_EXPORTABLE",
                  message: "You have no element ready to export.",
                },
              ],
            },
          }
        : undefined,
    );
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByRole("link", { name: "Ada, Character" })).toBeTruthy());
    await user.click(screen.getByRole("button", { name: "Export" }));
    const dialog = await screen.findByRole("dialog", { name: "Export elements" });
    await waitFor(() => expect(within(dialog).getByRole("alert").textContent).toContain("You have no element ready to export."));
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ input: { all: true } });
    expect(within(dialog).queryByRole("link", { name: "Download bundle" })).toBeNull();
  });

  it("imports a bundle with the chosen conflict rule, reports each element and reloads the library", async () => {
    const { calls } = renderLibrary((name) =>
      name === "ElementImport"
        ? {
            elementImport: {
              __typename: "ElementImportResult",
              createdCount: 2,
              rows: [
                { __typename: "ElementImportRow", name: "Ada", outcome: "RENAMED", newName: "Ada (2)", notes: [], element: { __typename: "Element", id: "RWxlbWVudDoz", name: "Ada (2)" } },
                { __typename: "ElementImportRow", name: "Lamp", outcome: "CREATED", newName: null, notes: ["The voice “Mia” had no file in the bundle; the element has no voice."], element: { __typename: "Element", id: "RWxlbWVudDo0", name: "Lamp" } },
              ],
            },
          }
        : undefined,
    );
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByRole("link", { name: "Ada, Character" })).toBeTruthy());
    const listingsBefore = calls.filter((c) => "order" in c.variables).length;

    await user.click(screen.getByRole("button", { name: "Import" }));
    const dialog = await screen.findByRole("dialog", { name: "Import elements" });
    const zip = new File(["PK\u0003\u0004"], "studio.zip", { type: "application/zip" });
    fireEvent.change(within(dialog).getByLabelText("Bundle (.zip) file"), { target: { files: [zip] } });
    await waitFor(() => expect(within(dialog).getByText("studio.zip")).toBeTruthy());
    const group = within(dialog).getByRole("radiogroup", { name: "If a name exists" });
    expect(within(group).getByRole("radio", { name: "Skip" })).toHaveProperty("checked", true);
    expect(within(group).getByText(/Import it as “Name \(2\)”/)).toBeTruthy();
    await user.click(within(group).getByRole("radio", { name: "Rename" }));
    await user.click(within(dialog).getByRole("button", { name: "Import" }));

    await waitFor(() => expect(within(dialog).getByText("2 elements created")).toBeTruthy());
    const sent = calls.find((c) => c.kind === "mutation")?.variables as { input: { bundle: File; onConflict: string } };
    expect(sent.input.onConflict).toBe("RENAME");
    expect(sent.input.bundle).toBe(zip);

    const table = within(dialog).getByRole("table", { name: "Import report" });
    const rows = within(table).getAllByRole("row").map((r) => [...r.querySelectorAll("th, td")].map((c) => c.textContent));
    expect(rows).toEqual([
      ["Name", "Outcome", "New name", "Notes"],
      ["Ada", "Renamed", "Ada (2)", "—"],
      ["Lamp", "Created", "—", "The voice “Mia” had no file in the bundle; the element has no voice."],
    ]);
    await waitFor(() => expect(calls.filter((c) => "order" in c.variables).length).toBeGreaterThan(listingsBefore));
  });

  it("shows a refused bundle's typed error and changes nothing", async () => {
    const { calls } = renderLibrary((name) =>
      name === "ElementImport"
        ? {
            elementImport: {
              __typename: "OperationInfo",
              messages: [
                {
                  __typename: "OperationMessage",
                  field: "elements.0.images.1",
                  code: "BUNDLE_CHECKSUM_MISMATCH",
                  message: "“elements/0001/1.jpg” is not the file the manifest lists (its SHA-256 differs).",
                },
              ],
            },
          }
        : undefined,
    );
    const user = userEvent.setup();
    await waitFor(() => expect(screen.getByRole("link", { name: "Ada, Character" })).toBeTruthy());
    const listingsBefore = calls.filter((c) => "order" in c.variables).length;

    await user.click(screen.getByRole("button", { name: "Import" }));
    const dialog = await screen.findByRole("dialog", { name: "Import elements" });
    // Without a file the service isn't asked.
    await user.click(within(dialog).getByRole("button", { name: "Import" }));
    expect(within(dialog).getByRole("alert").textContent).toBe("Choose a bundle (.zip) first.");
    expect(calls.some((c) => c.kind === "mutation")).toBe(false);

    fireEvent.change(within(dialog).getByLabelText("Bundle (.zip) file"), {
      target: { files: [new File(["PK"], "tampered.zip", { type: "application/zip" })] },
    });
    await waitFor(() => expect(within(dialog).getByText("tampered.zip")).toBeTruthy());
    await user.click(within(dialog).getByRole("button", { name: "Import" }));

    const alert = await within(dialog).findByRole("alert");
    expect(alert.textContent).toContain("The bundle was refused; nothing was imported");
    expect(alert.textContent).toContain("is not the file the manifest lists (its SHA-256 differs).");
    expect(within(dialog).queryByRole("table")).toBeNull();
    expect(within(dialog).getByRole("button", { name: "Import" })).toBeTruthy();
    expect(calls.filter((c) => "order" in c.variables).length).toBe(listingsBefore);
  });
});
