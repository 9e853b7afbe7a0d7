import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { fakeClient, renderWith } from "../test/render";
import { ShareDialog } from "./ShareDialog";
import { UseFrameDialog, initialTime } from "./UseFrameDialog";

const me = {
  __typename: "Me",
  username: "ada",
  displayName: "",
  isMember: false,
  tier: { __typename: "MembershipTier", code: "free", name: "Free" },
  creditBalance: 100,
  elementCount: 1,
  elementLimit: 30,
  canCreateElements: true,
  canEditElements: true,
  elementQuotaReason: null,
  freeMultiviewUsesPerDay: 3,
  freeMultiviewUsesLeftToday: 2,
  multiviewPriceCredits: 5,
};

const opName = (query: unknown) =>
  (query as { definitions: { name?: { value: string } }[] }).definitions.find((d) => d.name)?.name?.value;

const elements = {
  elements: {
    __typename: "ElementConnection",
    edges: [
      { __typename: "ElementEdge", node: { __typename: "Element", id: "E1", name: "Ada", type: "CHARACTER", images: [{ __typename: "ReferenceImage", id: "i1" }, { __typename: "ReferenceImage", id: "i2" }] } },
      { __typename: "ElementEdge", node: { __typename: "Element", id: "E2", name: "Full", type: "PROP", images: [1, 2, 3, 4].map((i) => ({ __typename: "ReferenceImage", id: `f${i}` })) } },
    ],
  },
};

function renderDialog(respond: (name: string | undefined, variables: Record<string, unknown>) => unknown, kind: "IMAGE" | "VIDEO" = "VIDEO") {
  const fake = fakeClient(({ query, variables }) => {
    const name = opName(query);
    if (name === "Viewer") return { me };
    return respond(name, variables);
  });
  renderWith(
    <SessionProvider>
      <Routes>
        <Route
          path="/jobs/j1"
          element={<UseFrameDialog opened onClose={() => {}} source={{ outputId: "O1", kind, duration: kind === "VIDEO" ? 5 : null }} currentTime={kind === "VIDEO" ? 2.34 : null} />}
        />
        <Route path="/elements/:id" element={<p>Element page</p>} />
      </Routes>
    </SessionProvider>,
    fake.client,
    "/jobs/j1",
  );
  return fake;
}

describe("UseFrameDialog", { timeout: 20_000 }, () => {
  it("prefills the player's time and makes a new element from that frame", async () => {
    const { calls } = renderDialog((name) =>
      name === "FrameElementCreate"
        ? { elementCreate: { __typename: "ElementWithWarningsResult", element: { __typename: "Element", id: "E9", name: "Red Apple" } } }
        : undefined,
    );
    const time = await screen.findByRole("textbox", { name: "Time (seconds)" });
    expect((time as HTMLInputElement).value).toBe("2.3");
    expect((screen.getByRole("radio", { name: "New element" }) as HTMLInputElement).checked).toBe(true);
    await waitFor(() => expect(screen.getByText(/free \(2 of 3 free uses left today\)/)).toBeTruthy());
    await userEvent.type(screen.getByRole("textbox", { name: "Name" }), "Red Apple");
    await userEvent.selectOptions(screen.getByRole("combobox", { name: "Type" }), "PROP");
    await userEvent.click(screen.getByRole("button", { name: "Use frame" }));
    await screen.findByText("Element page");
    const create = calls.find((c) => c.kind === "mutation");
    expect(create?.variables).toEqual({
      input: { name: "Red Apple", type: "PROP", mainImageFromHistory: { outputId: "O1", at: 2.3 }, extraImages: [], multiView: true },
    });
  });

  it("shows the service's refusal at the field it names", async () => {
    renderDialog((name) =>
      name === "FrameElementCreate"
        ? { elementCreate: { __typename: "OperationInfo", messages: [{ __typename: "OperationMessage", field: "name", code: "NAME_TAKEN", message: "You already have an element named “Ada”." }] } }
        : undefined,
    );
    await userEvent.type(await screen.findByRole("textbox", { name: "Name" }), "Ada");
    await userEvent.click(screen.getByRole("button", { name: "Use frame" }));
    const field = screen.getByRole("textbox", { name: "Name" });
    await waitFor(() => expect(field.getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getByText("You already have an element named “Ada”.")).toBeTruthy();
  });

  it("keeps the time within the video", async () => {
    renderDialog(() => undefined);
    const time = await screen.findByRole("textbox", { name: "Time (seconds)" });
    fireEvent.change(time, { target: { value: "" } });
    await userEvent.type(time, "9");
    await userEvent.tab();
    expect((time as HTMLInputElement).value).toBe("5");
  });

  it("adds an image output to an existing element, with no time, and links to it", async () => {
    const { calls } = renderDialog(
      (name) =>
        name === "FrameElements"
          ? elements
          : name === "FrameImageAdd"
            ? { elementImageAdd: { __typename: "ElementImageResult", element: { __typename: "Element", id: "E1", name: "Ada", version: 2 }, image: { __typename: "ReferenceImage", id: "i3" } } }
            : undefined,
      "IMAGE",
    );
    await screen.findByRole("radio", { name: "Add to existing element" });
    expect(screen.queryByRole("textbox", { name: "Time (seconds)" })).toBeNull();
    await userEvent.click(screen.getByRole("radio", { name: "Add to existing element" }));
    const select = await screen.findByRole("combobox", { name: "Element" });
    // The full element can't take another image.
    expect((screen.getByRole("option", { name: /Full/ }) as HTMLOptionElement).disabled).toBe(true);
    expect((select as HTMLSelectElement).value).toBe("E1");
    await userEvent.click(screen.getByRole("button", { name: "Use frame" }));
    const link = await screen.findByRole("link", { name: "Ada" });
    expect(link.getAttribute("href")).toBe("/elements/E1");
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ input: { elementId: "E1", fromHistory: { outputId: "O1", at: null } } });
  });

  it("never prefills a time past the end", () => {
    expect(initialTime(7, 5)).toBe(5);
    expect(initialTime(Number.NaN, 5)).toBe(0);
    expect(initialTime(1.26, null)).toBe(1.3);
  });
});

describe("ShareDialog", { timeout: 20_000 }, () => {
  it("puts each refusal next to its field and reports the shared work", async () => {
    let shared: unknown = null;
    let attempt = 0;
    const { client, calls } = fakeClient(({ kind }) => {
      if (kind !== "mutation") return undefined;
      attempt += 1;
      return attempt === 1
        ? { generationShare: { __typename: "OperationInfo", messages: [{ __typename: "OperationMessage", field: "title", code: "TITLE_TOO_LONG", message: "A title has at most 80 characters." }] } }
        : { generationShare: { __typename: "ExploreShareResult", work: { __typename: "MySharedWork", id: "M1", status: "APPROVED", public: { __typename: "ExploreWork", id: "W1" } } } };
    });
    renderWith(<ShareDialog opened onClose={() => {}} jobId="J1" outputId="O1" suggestedTitle="A red apple" onShared={(s) => (shared = s)} />, client);
    const title = await screen.findByRole("textbox", { name: "Title" });
    expect((title as HTMLInputElement).value).toBe("A red apple");
    await userEvent.click(screen.getByRole("button", { name: "Share" }));
    expect(await screen.findByText("A title has at most 80 characters.")).toBeTruthy();
    expect(title.getAttribute("aria-invalid")).toBe("true");
    await userEvent.type(screen.getByRole("textbox", { name: "Caption" }), "First render");
    await userEvent.click(screen.getByRole("button", { name: "Share" }));
    await waitFor(() => expect(shared).toEqual({ publicId: "W1", status: "APPROVED" }));
    expect(calls.filter((c) => c.kind === "mutation").at(-1)?.variables).toEqual({ jobId: "J1", outputId: "O1", title: "A red apple", caption: "First render" });
  });
});
