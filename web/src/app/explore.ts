import type { ExploreOrder, ExploreWorkStatus, GenerationModel, OutputKind } from "../gql/graphql";

/** Labels of the generation models; a Record so a model added to the schema fails the type
 * check until it has a label here. */
export const MODEL_LABELS: Record<GenerationModel, string> = {
  VIDEO_3_0: "Video 3.0",
  VIDEO_3_0_OMNI: "Video 3.0 Omni",
  VIDEO_O1: "Video O1",
  IMAGE_3_0_OMNI: "Image 3.0 Omni",
  IMAGE_O1: "Image O1",
};
export const MODELS = Object.keys(MODEL_LABELS) as GenerationModel[];

export const KIND_LABELS: Record<OutputKind, string> = { IMAGE: "Image", VIDEO: "Video" };

export const ORDER_LABELS: Record<ExploreOrder, string> = {
  NEWEST: "Newest",
  MOST_RECREATED: "Most recreated",
};

export const STATUS_LABELS: Record<ExploreWorkStatus, { label: string; color: string }> = {
  PENDING: { label: "Waiting for approval", color: "yellow" },
  APPROVED: { label: "In the feed", color: "teal" },
  HIDDEN: { label: "Hidden by moderation", color: "red" },
};

/** What a recreation may change on a video model, as the catalog allows (the service checks
 * again and says which value it refuses). */
export const VIDEO_ASPECT_RATIOS = ["16:9", "9:16", "1:1"];
export const IMAGE_ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "auto"];
export const VIDEO_DURATIONS = Array.from({ length: 13 }, (_, i) => i + 3);

/** "1 recreation", "12 recreations". */
export function recreations(n: number): string {
  return `${n} recreation${n === 1 ? "" : "s"}`;
}

/** A fresh idempotency key: the same request sent again (a retry after a lost answer) makes
 * one job and one charge. crypto.randomUUID needs a secure context; the fallback does not. */
export function idempotencyKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
