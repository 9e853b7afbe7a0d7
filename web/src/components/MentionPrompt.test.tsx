import { act, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useState } from "react";
import { describe, expect, it } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import { localMatches, MentionChips, MentionPrompt, mentionAt, mentionsIn, removeMention, type Suggestion } from "./MentionPrompt";

// jsdom has no FontFaceSet; Mantine's autosizing textarea listens on it.
if (!("fonts" in document)) {
  Object.defineProperty(document, "fonts", { value: { addEventListener() {}, removeEventListener() {} } });
}

const MINE = { libraryQualifier: "me", libraryName: "My library" };
const LIBRARY = [
  { id: "E1", name: "Maya", type: "CHARACTER", ...MINE, mention: "[@Maya]" },
  { id: "E2", name: "Max the Dog", type: "ANIMAL", ...MINE, mention: "[@Max the Dog]" },
  { id: "E3", name: "Red Scooter", type: "PROP", ...MINE, mention: "[@Red Scooter]" },
  // The same name in two teams: the service gives the qualified form to insert.
  { id: "T1", name: "Hero", type: "CHARACTER", libraryQualifier: "studio-nine", libraryName: "Studio Nine", mention: "[@Hero@studio-nine]" },
  { id: "T2", name: "Hero", type: "CHARACTER", libraryQualifier: "night-shift", libraryName: "Night Shift", mention: "[@Hero@night-shift]" },
];

function suggestions({ variables }: { variables: Record<string, unknown> }) {
  const q = String(variables.query ?? "").toLowerCase();
  return {
    mentionSuggestions: LIBRARY.filter((e) => e.name.toLowerCase().includes(q)).map((e) => ({
      __typename: "MentionSuggestion",
      ...e,
    })),
  };
}

function Harness({ initial = "" }: { initial?: string }) {
  const [value, setValue] = useState(initial);
  return (
    <>
      <MentionPrompt value={value} onChange={setValue} />
      <MentionChips value={value} onChange={setValue} />
      <output data-testid="value">{value}</output>
    </>
  );
}

function setup(initial = "") {
  const fake = fakeClient(suggestions);
  renderWith(<Harness initial={initial} />, fake.client);
  return fake;
}

const value = () => screen.getByTestId("value").textContent;
const prompt = () => screen.getByRole("textbox", { name: "Prompt" });

describe("mention helpers", () => {
  it("finds the @ being typed, not closed mentions or e-mail addresses", () => {
    expect(mentionAt("Hello @Ma", 9)).toEqual({ start: 6, query: "Ma" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("[@Maya] walks", 13)).toBeNull();
    expect(mentionAt("mail ada@example.com", 20)).toBeNull();
    expect(mentionAt("@Max the", 8)).toEqual({ start: 0, query: "Max the" });
    expect(mentionAt("@Max\nnext", 9)).toBeNull();
  });

  it("lists each mention once and removes one everywhere", () => {
    expect(mentionsIn("[@Maya] meets [@Image1] and [@maya] again")).toEqual(["Maya", "Image1"]);
    expect(removeMention("[@Maya] meets [@Max] and [@maya].", "Maya")).toBe("meets [@Max] and.");
  });

  it("matches elements already seen by prefix, then by containing the query", () => {
    const pool = new Map<string, Suggestion>(
      LIBRARY.map((e) => [e.id, { ...e, type: e.type as Suggestion["type"] }]),
    );
    expect(localMatches(pool, "ma").map((s) => s.name)).toEqual(["Max the Dog", "Maya"]);
    expect(localMatches(pool, "oo").map((s) => s.name)).toEqual(["Red Scooter"]);
    expect(localMatches(pool, "the").map((s) => s.name)).toEqual(["Max the Dog"]);
  });
});

describe("MentionPrompt", () => {
  it("opens the Elements listbox on @ and moves with the arrows; Enter inserts [@Name]", async () => {
    const user = userEvent.setup();
    const { calls } = setup();
    await user.click(prompt());
    await user.keyboard("Hi @ma");
    const list = await screen.findByRole("listbox", { name: "Elements" });
    expect(list).toBeTruthy();
    await waitFor(() => expect(screen.getAllByRole("option").map((o) => o.getAttribute("aria-label"))).toEqual(["Maya", "Max the Dog"]));
    expect(screen.getByRole("option", { name: "Maya" }).getAttribute("aria-selected")).toBe("true");
    expect(calls.at(-1)?.variables).toMatchObject({ query: "ma" });

    await user.keyboard("{ArrowDown}");
    expect(screen.getByRole("option", { name: "Max the Dog" }).getAttribute("aria-selected")).toBe("true");
    expect(prompt().getAttribute("aria-activedescendant")).toBe(screen.getByRole("option", { name: "Max the Dog" }).id);
    await user.keyboard("{ArrowDown}");
    expect(screen.getByRole("option", { name: "Maya" }).getAttribute("aria-selected")).toBe("true");
    await user.keyboard("{ArrowUp}{Enter}");
    expect(value()).toBe("Hi [@Max the Dog] ");
    expect(screen.queryByRole("listbox")).toBeNull();
    // The caret is after the mention: typing goes on from there.
    await user.keyboard("runs");
    expect(value()).toBe("Hi [@Max the Dog] runs");
  });

  it("closes on Esc without inserting, and reopens on the next @", async () => {
    const user = userEvent.setup();
    setup();
    await user.click(prompt());
    await user.keyboard("@sc");
    await screen.findByRole("option", { name: "Red Scooter" });
    await user.keyboard("{Escape}");
    expect(screen.queryByRole("listbox")).toBeNull();
    expect(value()).toBe("@sc");
    await user.keyboard(" and @");
    await screen.findByRole("listbox", { name: "Elements" });
  });

  it("inserts the clicked option", async () => {
    const user = userEvent.setup();
    setup("Shot 1 (3s): ");
    await user.click(prompt());
    await user.keyboard("{End}@");
    await user.click(await screen.findByRole("option", { name: "Red Scooter" }));
    expect(value()).toBe("Shot 1 (3s): [@Red Scooter] ");
  });

  it("shows a team element's library and inserts the service's mention text (qualified when needed)", async () => {
    const user = userEvent.setup();
    setup();
    await user.click(prompt());
    await user.keyboard("@her");
    const option = await screen.findByRole("option", { name: "Hero (Night Shift)" });
    expect(screen.getByRole("option", { name: "Hero (Studio Nine)" }).textContent).toContain("Studio Nine");
    // A personal element carries no library badge.
    expect(option.textContent).toContain("Night Shift");
    await user.click(screen.getByRole("option", { name: "Hero (Studio Nine)" }));
    expect(value()).toBe("[@Hero@studio-nine] ");
    await user.keyboard("and @may");
    const maya = await screen.findByRole("option", { name: "Maya" });
    expect(maya.textContent).not.toContain("My library");
  });

  it("says so when nothing matches", async () => {
    const user = userEvent.setup();
    setup();
    await user.click(prompt());
    await user.keyboard("@zzz");
    await screen.findByText(/No element matches “zzz”/);
    expect(screen.queryAllByRole("option")).toHaveLength(0);
    // Enter with no option adds a line, as in any textarea.
    await user.keyboard("{Enter}");
    expect(value()).toBe("@zzz\n");
  });
});

describe("MentionChips", () => {
  it("shows each mention as a chip whose button removes it from the prompt", async () => {
    const user = userEvent.setup();
    setup('[@Maya] rides [@Red Scooter] past [@Image1]. [@Maya] says "hi".');
    expect(screen.getByRole("button", { name: "Remove Maya" })).toBeTruthy();
    expect(screen.getByRole("button", { name: "Remove Image1" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Remove Maya" }));
    expect(value()).toBe('rides [@Red Scooter] past [@Image1]. says "hi".');
    expect(screen.queryByRole("button", { name: "Remove Maya" })).toBeNull();
    await act(async () => {
      await user.click(screen.getByRole("button", { name: "Remove Red Scooter" }));
    });
    expect(value()).toBe('rides past [@Image1]. says "hi".');
  });
});
