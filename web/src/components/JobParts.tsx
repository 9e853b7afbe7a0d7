import { Badge, Group, Progress, Text } from "@mantine/core";
import { CircleCheck, CircleX, Clock, Loader2, Ban } from "lucide-react";

import type { GenerationModel, JobStatus } from "../gql/graphql";

/** The models' names as the catalog gives them; a Record so a new model fails the type check
 * until it has a name here. */
export const MODEL_LABELS: Record<GenerationModel, string> = {
  VIDEO_3_0: "Video 3.0",
  VIDEO_3_0_OMNI: "Video 3.0 Omni",
  VIDEO_O1: "Video O1",
  IMAGE_3_0_OMNI: "Image 3.0 Omni",
  IMAGE_O1: "Image O1",
};

export function modelLabel(model: GenerationModel | null | undefined): string {
  return model ? MODEL_LABELS[model] : "AI multi-view";
}

const STATUS: Record<JobStatus, { label: string; color: string; icon: typeof Clock }> = {
  QUEUED: { label: "Queued", color: "gray", icon: Clock },
  RUNNING: { label: "Running", color: "violet", icon: Loader2 },
  SUCCEEDED: { label: "Done", color: "teal", icon: CircleCheck },
  FAILED: { label: "Failed", color: "red", icon: CircleX },
  CANCELED: { label: "Canceled", color: "orange", icon: Ban },
};

export function statusLabel(status: JobStatus): string {
  return STATUS[status].label;
}

export function StatusBadge({ status, size = "sm" }: { status: JobStatus; size?: "sm" | "md" | "lg" }) {
  const { label, color, icon: Icon } = STATUS[status];
  return (
    <Badge color={color} variant="light" size={size} leftSection={<Icon size={12} aria-hidden />}>
      {label}
    </Badge>
  );
}

/** The job's progress as a bar (role=progressbar, named `label`) with its percentage. */
export function JobProgress({
  status,
  progress,
  label = "Progress",
  size = "md",
}: {
  status: JobStatus;
  progress: number;
  label?: string;
  size?: "xs" | "sm" | "md" | "lg";
}) {
  const value = status === "SUCCEEDED" ? 100 : progress;
  const color = status === "FAILED" ? "red" : status === "CANCELED" ? "orange" : status === "SUCCEEDED" ? "teal" : "violet";
  // The bar's own section has no width at 0 %: the named progressbar is the whole track, so
  // it is there (and visible) from the first moment.
  return (
    <Group
      gap="xs"
      wrap="nowrap"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={value}
      aria-valuetext={`${value}%`}
    >
      <Progress
        value={value}
        color={color}
        size={size}
        radius="xl"
        animated={status === "RUNNING"}
        striped={status === "QUEUED"}
        aria-hidden
        style={{ flex: 1 }}
      />
      <Text size="xs" c="dimmed" w={36} ta="right" aria-hidden>
        {value}%
      </Text>
    </Group>
  );
}

/** A download name a person can read: the prompt's first words, the output's kind and the
 * extension of the stored file (`a-red-apple-on-a-table-video.mp4`). */
export function downloadName(prompt: string, kind: "IMAGE" | "VIDEO", url: string, index = 0): string {
  const words = promptTitle(prompt)
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48)
    .replace(/-+$/, "");
  const path = url.split(/[?#]/)[0];
  const ext = /\.([a-z0-9]{2,5})$/i.exec(path)?.[1]?.toLowerCase() ?? (kind === "VIDEO" ? "mp4" : "png");
  const base = words || "generation";
  return `${base}-${kind.toLowerCase()}${index ? `-${index + 1}` : ""}.${ext}`;
}

/** The prompt with mentions kept readable, cut to `max` characters on a word. */
export function excerpt(prompt: string, max = 120): string {
  const flat = prompt.replace(/\s+/g, " ").trim();
  if (flat.length <= max) return flat;
  const cut = flat.slice(0, max);
  return `${cut.slice(0, cut.lastIndexOf(" ") > max * 0.6 ? cut.lastIndexOf(" ") : max)}…`;
}

/** The prompt as a title: without the shot markers ("Shot 2 (3s):") and the mention brackets
 * (`[@Ada]` → "Ada"). */
export function promptTitle(prompt: string): string {
  return prompt
    .replace(/\bshot\s*\d+\s*(\([^)]*\))?\s*:\s*/gi, "")
    .replace(/\[@([^\]]*)\]/g, "$1")
    .replace(/\s+/g, " ")
    .trim();
}

/** "16:9" → "16 / 9" for CSS; anything else a square. */
export function cssRatio(aspectRatio: string | null | undefined): string {
  const m = /^(\d+(?:\.\d+)?):(\d+(?:\.\d+)?)$/.exec(aspectRatio ?? "");
  return m ? `${m[1]} / ${m[2]}` : "1 / 1";
}
