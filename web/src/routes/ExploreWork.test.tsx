import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it, vi } from "vitest";

import { SessionProvider } from "../app/session";
import { fakeClient, renderWith } from "../test/render";
import ExploreWorkPage from "./ExploreWork";

const PROMPT = "[@Little Scholar] walks next to the sofa in [@Image1].";

const theWork = {
  __typename: "ExploreWork",
  id: "W1",
  title: "Lunch",
  caption: "He means it.",
  authorName: "Ada",
  model: "VIDEO_3_0_OMNI",
  outputKind: "VIDEO",
  promptText: PROMPT,
  recreateCount: 3,
  createdAt: "2026-12-01T10:00:00Z",
  output: {
    __typename: "ExploreOutput",
    kind: "VIDEO",
    width: 1280,
    height: 720,
    durationMs: 4000,
    hasAudio: true,
    url: "/media/w1.mp4",
    posterUrl: "/media/w1.jpg",
  },
};

const refused = (code: string, message: string, field = "workId") => ({
  __typename: "OperationInfo",
  messages: [{ __typename: "OperationMessage", field, message, code }],
});

function show(mutation: (variables: Record<string, unknown>) => unknown) {
  const fake = fakeClient(({ kind, variables }) => {
    if (kind === "mutation") return mutation(variables);
    if ("id" in variables) return { exploreWork: theWork };
    return { me: null };
  });
  renderWith(
    <SessionProvider>
      <Routes>
        <Route path="/explore/:id" element={<ExploreWorkPage />} />
        <Route path="/jobs/:id" element={<p>Job page</p>} />
      </Routes>
    </SessionProvider>,
    fake.client,
    "/explore/W1",
  );
  return fake;
}

// Dialogs of Mantine take a while on a shared 2-core machine.
vi.setConfig({ testTimeout: 20_000 });

describe("A work's page", () => {
  it("shows the work and recreates it with a new prompt and an idempotency key", async () => {
    const { calls } = show(() => ({
      exploreRecreate: { __typename: "ExploreRecreateResult", job: { __typename: "GenerationJob", id: "J9" } },
    }));
    await screen.findByRole("heading", { name: "Lunch" });
    expect(screen.getByText("Recreations: 3")).toBeTruthy();
    expect(screen.getByText("Ada")).toBeTruthy();
    expect(screen.getByText(PROMPT)).toBeTruthy();
    await userEvent.click(screen.getByRole("button", { name: "Recreate" }));
    const prompt = await screen.findByRole("textbox", { name: "Prompt" });
    expect((prompt as HTMLTextAreaElement).value).toBe(PROMPT);
    fireEvent.change(prompt, { target: { value: "[@Little Scholar] naps on the sofa in [@Image1]." } });
    const dialog = screen.getByRole("dialog");
    await userEvent.click(dialog.querySelector("button[type=submit]")!);
    await screen.findByText("Job page", {}, { timeout: 5000 });
    const sent = calls.find((c) => c.kind === "mutation")!.variables;
    expect(sent.workId).toBe("W1");
    expect(sent.overrides).toEqual({
      promptText: "[@Little Scholar] naps on the sofa in [@Image1].",
      duration: null,
      aspectRatio: null,
    });
    expect(typeof sent.idempotencyKey).toBe("string");
    expect((sent.idempotencyKey as string).length).toBeGreaterThanOrEqual(32);
  });

  it("says clearly when the work was hidden meanwhile", async () => {
    show(() => ({ exploreRecreate: refused("WORK_HIDDEN", "This work was hidden by moderation.") }));
    await userEvent.click(await screen.findByRole("button", { name: "Recreate" }));
    const dialog = await screen.findByRole("dialog");
    await userEvent.click(dialog.querySelector("button[type=submit]")!);
    await screen.findByText("This work can't be recreated any more", {}, { timeout: 5000 });
    expect(screen.getByText(/This work was hidden by moderation\./)).toBeTruthy();
    expect((dialog.querySelector("button[type=submit]") as HTMLButtonElement).disabled).toBe(true);
  });

  it("sends a report with the chosen reason and shows the service's refusal", async () => {
    const { calls } = show(() => ({ exploreReport: refused("OWN_WORK", "You can't report your own work.") }));
    await userEvent.click(await screen.findByRole("button", { name: "Report" }));
    await userEvent.click(await screen.findByRole("button", { name: "Send report" }));
    expect(screen.getByRole("radiogroup", { name: "Reason" })).toBeTruthy();
    await screen.findByText("Choose what is wrong with it.", {}, { timeout: 5000 });
    expect(calls.filter((c) => c.kind === "mutation")).toHaveLength(0);
    await userEvent.click(screen.getByRole("radio", { name: "Spam or misleading" }));
    await userEvent.click(screen.getByRole("button", { name: "Send report" }));
    await screen.findByText("You can't report your own work.", {}, { timeout: 5000 });
    await waitFor(() => expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ workId: "W1", reason: "Spam or misleading" }));
  });
});
