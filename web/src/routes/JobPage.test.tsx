import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Route, Routes } from "react-router";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { fakeClient, renderWith } from "../test/render";
import JobPage from "./JobPage";

const opName = (query: unknown) =>
  (query as { definitions: { name?: { value: string } }[] }).definitions.find((d) => d.name)?.name?.value;

function job(extra: object) {
  return {
    __typename: "GenerationJob",
    id: "J1",
    kind: "GENERATION",
    model: "VIDEO_3_0",
    mode: "std",
    prompt: "Shot 1 (3s): A red apple on a table. Shot 2 (2s): The camera pulls back.",
    duration: 5,
    aspectRatio: "16:9",
    status: "RUNNING",
    progress: 80,
    stalled: false,
    errorCode: "",
    errorMessage: "",
    creditsCharged: 20,
    refunded: false,
    createdAt: "2026-12-06T00:00:00Z",
    startedAt: "2026-12-06T00:00:01Z",
    finishedAt: null,
    outputs: [],
    shots: [
      { __typename: "PreviewShot", index: 1, duration: 3, text: "A red apple on a table.", cameraMove: null, cameraNote: null },
      { __typename: "PreviewShot", index: 2, duration: 2, text: "The camera pulls back.", cameraMove: "pull_back", cameraNote: null },
    ],
    elements: [],
    recreatedFrom: null,
    consistencyPending: false,
    consistency: null,
    ...extra,
  };
}

const done = job({
  status: "SUCCEEDED",
  progress: 100,
  finishedAt: "2026-12-06T00:00:09Z",
  outputs: [
    {
      __typename: "GenerationOutput",
      id: "O1",
      kind: "VIDEO",
      width: 1280,
      height: 720,
      durationMs: 5000,
      hasAudio: true,
      url: "/media-files/abc.mp4?sig=1",
      posterUrl: "/media-files/abc.jpg",
      thumbnailUrl: "/media-files/abc-t.jpg",
    },
  ],
});

function renderPage(respond: (name: string | undefined) => unknown) {
  const fake = fakeClient(({ query }) => respond(opName(query)));
  renderWith(
    <SessionProvider>
      <Routes>
        <Route path="/jobs/:id" element={<JobPage />} />
      </Routes>
    </SessionProvider>,
    fake.client,
    "/jobs/J1",
  );
  return fake;
}

describe("JobPage", { timeout: 20_000 }, () => {
  it("a cancel that comes as the job finishes shows how it ended and the service's word", async () => {
    let ended = false;
    renderPage((name) => {
      if (name === "JobDetail") return { generationJob: ended ? done : job({}) };
      if (name === "GenerationCancel")
        return (ended = true) && {
          generationCancel: {
            __typename: "OperationInfo",
            messages: [{ __typename: "OperationMessage", field: "id", code: "JOB_FINISHED", message: "This job has already succeeded." }],
          },
        };
      return { me: null };
    });
    expect(await screen.findByRole("progressbar", { name: "Progress" })).toBeTruthy();
    expect(screen.getByRole("list", { name: "Shots" }).textContent).toContain("pull back");
    await userEvent.click(screen.getByRole("button", { name: "Cancel job" }));
    const confirm = await screen.findByRole("dialog", { name: "Cancel this job?" });
    await userEvent.click(within(confirm).getByRole("button", { name: "Yes, cancel it" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("This job has already succeeded.");
    await waitFor(() => expect(screen.queryByRole("button", { name: "Cancel job" })).toBeNull());
    expect(screen.getByRole("progressbar", { name: "Progress" }).getAttribute("aria-valuenow")).toBe("100");
    const download = screen.getByRole("link", { name: "Download" });
    expect(download.getAttribute("download")).toBe("a-red-apple-on-a-table-the-camera-pulls-back-video.mp4");
    const video = document.querySelector("video")!;
    expect(video.getAttribute("poster")).toBe("/media-files/abc.jpg");
    expect(video.hasAttribute("controls")).toBe(true);
  });

  it("a failed job says why and that its credits came back", async () => {
    renderPage((name) =>
      name === "JobDetail"
        ? { generationJob: job({ status: "FAILED", progress: 30, errorCode: "RENDER_FAILED", errorMessage: "The renderer stopped.", refunded: true, finishedAt: "2026-12-06T00:00:05Z" }) }
        : { me: null },
    );
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The renderer stopped.");
    expect(alert.textContent).toContain("Refunded 20 credits");
    expect(screen.queryByRole("button", { name: "Cancel job" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Share to Explore" })).toBeNull();
  });

  it("a succeeded job shows Measuring… until its consistency report is in, then the scores with the drifted shot flagged", async () => {
    let reads = 0;
    const row = (shotIndex: number, elementPosition: number, elementName: string, method: string, score: number, drift: boolean, present = true) => ({
      __typename: "ShotConsistency",
      shotIndex,
      elementPosition,
      elementName,
      method,
      score,
      present,
      drift,
    });
    const report = {
      __typename: "JobConsistency",
      status: "DONE",
      score: 0.7234,
      drifted: 1,
      checkedAt: "2026-12-06T00:00:20Z",
      shots: [row(1, 1, "Alice", "face", 0.91, false), row(2, 1, "Alice", "face", 0.24, true), row(2, 2, "Mug", "appearance", 0.66, false, true)],
    };
    renderPage((name) => {
      if (name !== "JobDetail") return { me: null };
      reads += 1;
      return { generationJob: reads < 3 ? { ...done, consistencyPending: true } : { ...done, consistency: report } };
    });
    const region = await screen.findByRole("region", { name: "Consistency" });
    expect(within(region).getByRole("status").textContent).toContain("Measuring…");
    // The page keeps reading the job until the report is in.
    await waitFor(() => expect(within(region).getByRole("heading").textContent).toBe("Consistency 0.72"), { timeout: 8000 });
    expect(within(region).queryByText("Measuring…")).toBeNull();
    const rows = within(region).getAllByRole("row").slice(1);
    expect(rows.map((r) => within(r).getAllByRole("cell").map((c) => c.textContent))).toEqual([
      ["1", "Face", "91%", "Yes", "OK"],
      ["2", "Face", "24%", "Yes", "Drift"],
      ["2", "Appearance", "66%", "Yes", "OK"],
    ]);
    expect(rows.map((r) => within(r).getByRole("rowheader").textContent)).toEqual(["Alice", "Alice", "Mug"]);
    expect(within(region).getByText("1 drifted")).toBeTruthy();
    const polls = reads;
    await new Promise((r) => setTimeout(r, 2500));
    expect(reads).toBe(polls); // measured: no more polling
  });

  it("a pass that failed says it could not be measured", async () => {
    renderPage((name) =>
      name === "JobDetail"
        ? { generationJob: { ...done, consistency: { __typename: "JobConsistency", status: "FAILED", score: null, drifted: 0, checkedAt: "2026-12-06T00:00:20Z", shots: [] } } }
        : { me: null },
    );
    const region = await screen.findByRole("region", { name: "Consistency" });
    expect(region.textContent).toContain("Could not be measured.");
    expect(within(region).queryByRole("table")).toBeNull();
  });

  it("a succeeded job that is not measured shows no consistency panel", async () => {
    renderPage((name) => (name === "JobDetail" ? { generationJob: done } : { me: null }));
    expect(await screen.findByRole("link", { name: "Download" })).toBeTruthy();
    expect(screen.queryByRole("region", { name: "Consistency" })).toBeNull();
  });

  it("an unknown job says so", async () => {
    renderPage((name) => (name === "JobDetail" ? { generationJob: null } : { me: null }));
    expect(await screen.findByRole("heading", { name: "No such job" })).toBeTruthy();
  });
});
