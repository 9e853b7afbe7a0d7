import { describe, expect, it } from "vitest";

import { applyFix, fixLabel, qualifiedParts } from "./Create";

// The service's AMBIGUOUS_MENTION issue (generation/prompts.py): the message quotes the mention as
// written, and each suggestion is a qualified form without its brackets, `Hero@studio-nine`.
const ambiguous = {
  code: "AMBIGUOUS_MENTION" as const,
  message: '[@Hero]: "Hero" is in more than one of your team libraries; say which: [@Hero@studio-nine] or [@Hero@night-shift].',
};

describe("one-click fixes", () => {
  it("reads a qualified form with or without brackets", () => {
    expect(qualifiedParts("Hero@studio-nine")).toEqual({ text: "[@Hero@studio-nine]", name: "Hero" });
    expect(qualifiedParts("[@Old Man@night-shift]")).toEqual({ text: "[@Old Man@night-shift]", name: "Old Man" });
    expect(qualifiedParts("Hero")).toBeNull();
  });

  it("replaces every plain mention of an ambiguous name by the chosen qualified form", () => {
    const prompt = "Shot 1 (3s): [@Hero] waves. Shot 2 (3s): [@ hero ] runs past [@Hero@me] and [@Maya].";
    expect(applyFix(prompt, ambiguous, "Hero@night-shift")).toBe(
      "Shot 1 (3s): [@Hero@night-shift] waves. Shot 2 (3s): [@Hero@night-shift] runs past [@Hero@me] and [@Maya].",
    );
    expect(fixLabel(ambiguous, "Hero@night-shift")).toBe("[@Hero@night-shift]");
  });

  it("keeps the unknown name's fix as it was", () => {
    const unknown = { code: "UNKNOWN_MENTION" as const, message: '[@Mya]: no element with this name in your library. Did you mean "Maya"?' };
    expect(applyFix("[@Mya] waves", unknown, "Maya")).toBe("[@Maya] waves");
    expect(fixLabel(unknown, "Maya")).toBe("Maya");
  });
});
