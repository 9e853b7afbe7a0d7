import {
  Alert,
  Badge,
  Box,
  Button,
  Card,
  CloseButton,
  Grid,
  Group,
  Loader,
  Modal,
  MultiSelect,
  NativeSelect,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
  UnstyledButton,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { Clapperboard, Film, ImagePlus, Library as LibraryIcon, Mic, MicOff, Search, Sparkles, TriangleAlert, Wand2 } from "lucide-react";
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { Link, useNavigate } from "react-router";
import { useClient, useMutation, useQuery } from "urql";

import { problemOf, type Problem } from "../app/errors";
import { TYPE_LABELS } from "../app/labels";
import { libraryArgument, librarySearch, PERSONAL, useLibraries } from "../app/libraries";
import { useSession } from "../app/session";
import { LibrarySwitcher } from "../components/LibrarySwitcher";
import { MediaImage } from "../components/Media";
import { MentionChips, MentionPrompt, removeMention, type MentionPromptHandle } from "../components/MentionPrompt";
import { graphql } from "../gql";
import "./Create.css";
import type { GenerationModel, GenerationModelsQuery, PromptPreviewQuery } from "../gql/graphql";

const GenerationModelsDocument = graphql(`
  query GenerationModels {
    generationModels {
      code
      label
      outputKind
      maxReferences
      maxReferencesWithInputVideo
      acceptsInputVideo
      inputVideoMinSeconds
      inputVideoMaxSeconds
      acceptsReferenceImages
      takesFrames
      maxBoundElements
      durations
      defaultDuration
      aspectRatios
      multiShot
      elementVoices
      modes
    }
  }
`);

const PromptPreviewDocument = graphql(`
  query PromptPreview($input: GenerationPreviewInput!) {
    generationPromptPreview(input: $input) {
      ok
      price
      referenceCount
      referenceLimit
      totalDuration
      elements {
        position
        id
        name
        mentioned
        hasVoice
      }
      shots {
        index
        duration
        text
        cameraMove
        cameraNote
      }
      dialogue {
        shotIndex
        text
        speaker
        hasVoice
      }
      issues {
        code
        message
        field
        suggestions
      }
    }
  }
`);

const CreateElementsDocument = graphql(`
  query CreateElements($search: String, $library: String) {
    elements(status: ACTIVE, search: $search, order: NAME_ASC, first: 100, library: $library) {
      totalCount
      edges {
        node {
          id
          name
          type
          qualifiedMention
          voice {
            id
          }
          images {
            id
            role
            thumbnailUrl
          }
        }
      }
    }
  }
`);

const GenerationSubmitDocument = graphql(`
  mutation GenerationSubmit($input: GenerationSubmitInput!) {
    generationSubmit(input: $input) {
      ... on GenerationJobResult {
        job {
          id
        }
      }
      ... on OperationInfo {
        messages {
          message
          code
          field
        }
      }
    }
  }
`);

type ModelInfo = GenerationModelsQuery["generationModels"][number];
type Preview = PromptPreviewQuery["generationPromptPreview"];
type Issue = Preview["issues"][number];

/** Where on the page a problem is shown: the service names fields in either spelling
 * (`input_video` from the compiler, `inputVideo` from submit). */
export type Area =
  | "model"
  | "prompt"
  | "attachedImages"
  | "startFrame"
  | "endFrame"
  | "inputVideo"
  | "elementIds"
  | "mode"
  | "duration"
  | "aspectRatio"
  | "generate";

export function areaOf(field: string | null | undefined): Area {
  if (!field) return "prompt";
  const root = field.split(".")[0].replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  switch (root) {
    case "images":
    case "attachedImages":
      return "attachedImages";
    case "startFrame":
    case "endFrame":
    case "inputVideo":
    case "elementIds":
    case "mode":
    case "duration":
    case "aspectRatio":
    case "model":
    case "prompt":
      return root;
    case "amount":
    case "credits":
      return "generate";
    default:
      return "generate";
  }
}

/** Issues shown by the input they are about rather than the field the service names. */
const ISSUE_AREAS: Partial<Record<string, Area>> = {
  TOO_MANY_BOUND_ELEMENTS: "elementIds",
  TOO_MANY_REFERENCES: "attachedImages",
  UNKNOWN_MENTION: "prompt",
  AMBIGUOUS_MENTION: "prompt",
  SHOT_DURATIONS_MISMATCH: "duration",
};

/** `pan_left` → `pan left`. */
export function moveLabel(move: string | null | undefined): string {
  return move ? move.replace(/_/g, " ") : "no camera move";
}

/** The prompt with an unknown mention (as the issue's message quotes it: `[@Mya]` or `@Mya`)
 * replaced by the suggested element. */
export function fixMention(prompt: string, issue: Pick<Issue, "message">, name: string): string {
  const written = issue.message.split(":")[0].trim();
  const replacement = `[@${name}]`;
  if (written && prompt.includes(written)) return prompt.split(written).join(replacement);
  return prompt;
}

/** A qualified form as the service lists it (`[@Hero@studio-nine]`, or without brackets), as
 * written in a prompt, and the name it qualifies. */
export function qualifiedParts(form: string): { text: string; name: string } | null {
  const m = form.trim().match(/^\[?@?\s*(.+?)\s*@\s*([a-z0-9-]+)\s*\]?$/i);
  if (!m) return null;
  return { text: `[@${m[1]}@${m[2].toLowerCase()}]`, name: m[1] };
}

/** The prompt with an ambiguous `[@Name]` (a name found in two or more teams) replaced by one
 * qualified form, `[@Name@handle]`; mentions already qualified are left alone. */
export function fixAmbiguous(prompt: string, form: string): string {
  const parts = qualifiedParts(form);
  if (!parts) return prompt;
  const escaped = parts.name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return prompt.replace(new RegExp(`\\[@\\s*${escaped}\\s*\\]`, "gi"), parts.text);
}

/** One click of an issue's suggestion: an unknown name replaced by a close one, or an
 * ambiguous name by its qualified form. */
export function applyFix(prompt: string, issue: Pick<Issue, "message" | "code">, suggestion: string): string {
  return issue.code === "AMBIGUOUS_MENTION" ? fixAmbiguous(prompt, suggestion) : fixMention(prompt, issue, suggestion);
}

/** The words of a fix's button for a suggestion. */
export function fixLabel(issue: Pick<Issue, "code">, suggestion: string): string {
  return issue.code === "AMBIGUOUS_MENTION" ? (qualifiedParts(suggestion)?.text ?? suggestion) : suggestion;
}

function newKey(): string {
  return typeof crypto !== "undefined" && "randomUUID" in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

const fileSig = (f: File | null) => (f ? `${f.name}:${f.size}:${f.lastModified}` : null);

function seconds(list: readonly number[]): string {
  if (!list.length) return "";
  const lo = list[0];
  const hi = list[list.length - 1];
  return lo === hi ? `${lo} s` : `${lo}–${hi} s`;
}

/** The rules of one model, as the picker shows them. */
export function rulesOf(m: ModelInfo): { label: string; value: string }[] {
  const rules = [];
  const refs = m.takesFrames
    ? `Up to ${m.maxBoundElements} elements, bound to the start frame`
    : m.acceptsInputVideo && m.maxReferencesWithInputVideo != null
      ? `${m.maxReferences} images and elements; ${m.maxReferencesWithInputVideo} with an input video`
      : `${m.maxReferences} images and elements`;
  rules.push({ label: "References", value: refs });
  rules.push({
    label: "Input video",
    value: m.acceptsInputVideo ? `Yes, ${m.inputVideoMinSeconds}–${m.inputVideoMaxSeconds} s ([@Video])` : "No",
  });
  rules.push({
    label: "Start / end frame",
    value: m.takesFrames ? `Yes, with up to ${m.maxBoundElements} bound elements` : "No",
  });
  rules.push({ label: "Duration", value: m.outputKind === "IMAGE" ? "Images (no duration)" : seconds(m.durations) });
  rules.push({ label: "Multi-shot", value: m.multiShot ? "Yes (Shot 1 (3s): …)" : "No" });
  rules.push({ label: "Voices", value: m.elementVoices ? "Lines spoken in the speaker's voice" : "No element voices" });
  return rules;
}

function FieldError({ messages }: { messages: string[] }) {
  if (!messages.length) return null;
  return (
    <Stack gap={2}>
      {messages.map((m, i) => (
        <Text key={i} size="sm" c="red.5" role="alert">
          {m}
        </Text>
      ))}
    </Stack>
  );
}

/** A button that opens a file chooser; the input carries `label` as its accessible name. */
function FilePick({
  label,
  text,
  accept,
  multiple,
  onFiles,
  icon,
}: {
  label: string;
  text: string;
  accept: string;
  multiple?: boolean;
  onFiles: (files: File[]) => void;
  icon: ReactNode;
}) {
  const input = useRef<HTMLInputElement>(null);
  return (
    <>
      <Button variant="default" leftSection={icon} onClick={() => input.current?.click()}>
        {text}
      </Button>
      <input
        ref={input}
        type="file"
        aria-label={label}
        accept={accept}
        multiple={multiple}
        hidden
        tabIndex={-1}
        onChange={(e) => {
          const files = Array.from(e.currentTarget.files ?? []);
          e.currentTarget.value = "";
          if (files.length) onFiles(files);
        }}
      />
    </>
  );
}

function Thumb({ file, label, onRemove }: { file: File; label: string; onRemove: () => void }) {
  const url = useMemo(() => URL.createObjectURL(file), [file]);
  useEffect(() => () => URL.revokeObjectURL(url), [url]);
  const video = file.type.startsWith("video/");
  return (
    <Box pos="relative" w={96}>
      <Box className="media-frame" style={{ aspectRatio: "1 / 1", animation: "none" }}>
        {video ? <video src={url} muted aria-label={label} /> : <img src={url} alt={label} />}
      </Box>
      <Badge pos="absolute" bottom={4} left={4} size="xs" variant="filled" color="dark">
        {label}
      </Badge>
      <CloseButton
        pos="absolute"
        top={2}
        right={2}
        size="sm"
        variant="filled"
        radius="xl"
        aria-label={`Detach ${label}`}
        onClick={onRemove}
      />
    </Box>
  );
}

/** "Add from Element Library": the viewer's usable elements, searchable; a click mentions one. */
/** The Element Library as a grid to pick from, in any library the viewer may use: their own
 * elements go in as `[@Name]`, a team's as the qualified `[@Name@handle]` (it can't be taken
 * for another library's element of the same name). */
function LibraryPicker({ opened, onClose, onPick }: { opened: boolean; onClose: () => void; onPick: (mention: string) => void }) {
  const [search, setSearch] = useState("");
  const [debounced] = useDebouncedValue(search, 200);
  const [qualifier, setQualifier] = useState(PERSONAL);
  const { libraries } = useLibraries(qualifier);
  const [{ data, fetching }] = useQuery({
    query: CreateElementsDocument,
    variables: { search: debounced || null, library: libraryArgument(qualifier) },
    pause: !opened,
  });
  const edges = data?.elements.edges ?? [];
  return (
    <Modal opened={opened} onClose={onClose} title="Add from Element Library" size="xl">
      <Stack>
        <Group gap="sm" align="flex-end" wrap="wrap">
          {libraries && libraries.length > 1 && <LibrarySwitcher libraries={libraries} value={qualifier} onChange={setQualifier} />}
          <TextInput
            label="Search elements"
            leftSection={<Search size={16} aria-hidden />}
            value={search}
            onChange={(e) => setSearch(e.currentTarget.value)}
            data-autofocus
            style={{ flex: "1 1 240px" }}
          />
        </Group>
        {!data && fetching ? (
          <SimpleGrid cols={{ base: 3, sm: 5 }}>
            {Array.from({ length: 5 }, (_, i) => (
              <Skeleton key={i} h={140} radius="md" />
            ))}
          </SimpleGrid>
        ) : edges.length === 0 ? (
          <Stack align="center" gap={6} p="lg">
            <Text fw={600}>
              {debounced
                ? `No element matches “${debounced}”`
                : qualifier === PERSONAL
                  ? "Your library has no usable elements yet"
                  : "This team's library has no usable elements yet"}
            </Text>
            <Button component={Link} to={`/elements/new${librarySearch(qualifier)}`} variant="light" onClick={onClose}>
              Create an element
            </Button>
          </Stack>
        ) : (
          <SimpleGrid cols={{ base: 3, sm: 5 }} spacing="sm">
            {edges.map(({ node }) => {
              const main = node.images.find((i) => i.role === "MAIN") ?? node.images[0];
              return (
                <UnstyledButton
                  key={node.id}
                  aria-label={`Add ${node.name}`}
                  className="element-card"
                  onClick={() => {
                    onPick(qualifier === PERSONAL ? `[@${node.name}]` : node.qualifiedMention);
                    onClose();
                  }}
                >
                  <MediaImage src={main?.thumbnailUrl} alt="" ratio="1 / 1" />
                  <Text size="sm" fw={600} truncate="end" mt={4}>
                    {node.name}
                  </Text>
                  <Text size="xs" c="dimmed">
                    {TYPE_LABELS[node.type]}
                    {node.voice ? " · voice" : ""}
                  </Text>
                </UnstyledButton>
              );
            })}
          </SimpleGrid>
        )}
      </Stack>
    </Modal>
  );
}

function ModelRules({ model }: { model: ModelInfo }) {
  return (
    <Card radius="md" bg="dark.7" p="sm" aria-label={`${model.label} rules`} role="group">
      <SimpleGrid cols={{ base: 1, xs: 2 }} spacing={6} verticalSpacing={6}>
        {rulesOf(model).map((r) => (
          <Text key={r.label} size="sm">
            <Text span c="dimmed">
              {r.label}:{" "}
            </Text>
            {r.value}
          </Text>
        ))}
      </SimpleGrid>
    </Card>
  );
}

function PreviewPanel({
  preview,
  loading,
  empty,
  onFix,
  balance,
}: {
  preview: Preview | null;
  loading: boolean;
  empty: boolean;
  onFix: (issue: Issue, name: string) => void;
  balance: number | null;
}) {
  const over = preview ? preview.referenceCount > preview.referenceLimit : false;
  return (
    <Card role="region" aria-label="Preview" radius="lg" bg="dark.7" p="lg" className="create-preview" aria-busy={loading}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Preview
        </Title>
        {loading && <Loader size="xs" aria-label="Updating the preview" />}
      </Group>
      {empty || !preview ? (
        <Text c="dimmed" size="sm">
          {empty ? "Write a prompt to see its price, shots and lines here." : "Checking your prompt…"}
        </Text>
      ) : (
        <Stack gap="md">
          <Group gap="lg" wrap="wrap">
            <Stack gap={0}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                References
              </Text>
              <Text fw={700} size="lg" c={over ? "red.5" : undefined} aria-label={`References: ${preview.referenceCount} of ${preview.referenceLimit}`}>
                {preview.referenceCount} of {preview.referenceLimit}
              </Text>
            </Stack>
            <Stack gap={0}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                Length
              </Text>
              <Text fw={700} size="lg">
                {preview.totalDuration != null ? `${preview.totalDuration} s` : "—"}
              </Text>
            </Stack>
            <Stack gap={0}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                Cost
              </Text>
              <Text fw={700} size="lg" c="violet.3">
                {preview.price != null ? `Price: ${preview.price} credits` : "Price: not available"}
              </Text>
            </Stack>
          </Group>
          {balance != null && preview.price != null && preview.price > balance && (
            <Text size="sm" c="orange.4">
              You have {balance} credits: top up or shorten the video.
            </Text>
          )}
          {preview.elements.length > 0 && (
            <Stack gap={4}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={700}>
                Elements
              </Text>
              <Group gap={6}>
                {preview.elements.map((e) => (
                  <Badge key={e.position} variant="light" color="violet" tt="none" leftSection={e.hasVoice ? <Mic size={11} aria-hidden /> : undefined}>
                    {e.position}. {e.name}
                    {e.mentioned ? "" : " (bound)"}
                  </Badge>
                ))}
              </Group>
            </Stack>
          )}
          <Stack gap={4}>
            <Text size="xs" c="dimmed" tt="uppercase" fw={700} id="preview-shots">
              Shots
            </Text>
            <ol className="preview-list" aria-labelledby="preview-shots">
              {preview.shots.map((s) => (
                <li key={s.index}>
                  <Text size="sm" fw={600}>
                    <Clapperboard size={13} aria-hidden style={{ verticalAlign: -2, marginRight: 6 }} />
                    {`Shot ${s.index} · ${s.duration != null ? `${s.duration} s` : "? s"} · ${moveLabel(s.cameraMove)}`}
                  </Text>
                  <Text size="xs" c="dimmed" lineClamp={2}>
                    {s.text}
                  </Text>
                  {s.cameraNote && (
                    <Text size="xs" c="yellow.5">
                      {s.cameraNote}
                    </Text>
                  )}
                </li>
              ))}
            </ol>
          </Stack>
          {preview.dialogue.length > 0 && (
            <Stack gap={4}>
              <Text size="xs" c="dimmed" tt="uppercase" fw={700} id="preview-lines">
                Lines
              </Text>
              <ul className="preview-list" aria-labelledby="preview-lines">
                {preview.dialogue.map((d, i) => (
                  <li key={i}>
                    <Group gap={6} wrap="nowrap" align="flex-start">
                      {d.hasVoice ? <Mic size={14} aria-hidden color="var(--mantine-color-teal-4)" /> : <MicOff size={14} aria-hidden color="var(--mantine-color-gray-6)" />}
                      <Text size="sm">
                        <Text span fw={600}>
                          {d.speaker ?? "No speaker"}
                        </Text>{" "}
                        (shot {d.shotIndex}, {d.speaker ? (d.hasVoice ? "has a voice" : "no voice") : "no voice"}): “{d.text}”
                      </Text>
                    </Group>
                  </li>
                ))}
              </ul>
            </Stack>
          )}
          {preview.issues.length > 0 ? (
            <Stack gap={6} aria-label="Issues" role="list">
              {preview.issues.map((issue, i) => (
                <Alert key={i} role="listitem" color="red" variant="light" p="xs" icon={<TriangleAlert size={16} aria-hidden />}>
                  <Text size="sm">{issue.message}</Text>
                  {issue.suggestions.length > 0 && (
                    <Group gap={6} mt={6}>
                      {issue.suggestions.map((s) => (
                        <Button key={s} size="compact-xs" variant="white" color="dark" leftSection={<Wand2 size={12} aria-hidden />} onClick={() => onFix(issue, s)} tt="none">
                          Use {fixLabel(issue, s)}
                        </Button>
                      ))}
                    </Group>
                  )}
                </Alert>
              ))}
            </Stack>
          ) : (
            <Text size="sm" c="teal.4">
              Ready to generate.
            </Text>
          )}
        </Stack>
      )}
    </Card>
  );
}

export default function Create() {
  const client = useClient();
  const navigate = useNavigate();
  const { me, refresh } = useSession();
  const [{ data: catalog, error: catalogError }] = useQuery({ query: GenerationModelsDocument });
  const models = useMemo(() => catalog?.generationModels ?? [], [catalog]);
  const [code, setCode] = useState<GenerationModel>("VIDEO_3_0_OMNI");
  const model = models.find((m) => m.code === code) ?? null;

  const [prompt, setPrompt] = useState("");
  const [images, setImages] = useState<File[]>([]);
  const [startFrame, setStartFrame] = useState<File | null>(null);
  const [endFrame, setEndFrame] = useState<File | null>(null);
  const [inputVideo, setInputVideo] = useState<File | null>(null);
  const [videoSeconds, setVideoSeconds] = useState<number | null>(null);
  const [bound, setBound] = useState<string[]>([]);
  const [mode, setMode] = useState("std");
  const [duration, setDuration] = useState("");
  const [aspect, setAspect] = useState("16:9");
  const [libraryOpen, setLibraryOpen] = useState(false);
  const promptBox = useRef<MentionPromptHandle>(null);

  // Settings the new model doesn't offer fall back to its defaults.
  useEffect(() => {
    if (!model) return;
    if (model.modes.length && !model.modes.includes(mode)) setMode(model.modes[0]);
    if (duration && !model.durations.includes(Number(duration))) setDuration("");
    if (!model.aspectRatios.includes(aspect)) setAspect(model.aspectRatios[0]);
  }, [model, mode, duration, aspect]);

  const isVideo = model?.outputKind !== "IMAGE";
  const previewInput = useMemo(
    () => ({
      model: code,
      prompt,
      mode: isVideo ? mode : null,
      duration: isVideo && duration ? Number(duration) : null,
      aspectRatio: aspect,
      // What the model doesn't take stays attached but out of the job (its chips and the
      // preview say so), so switching back and forth keeps the user's files.
      attachedImages: model?.acceptsReferenceImages === false ? 0 : images.length,
      startFrame: !!model?.takesFrames && !!startFrame,
      endFrame: !!model?.takesFrames && !!endFrame,
      inputVideo: !!model?.acceptsInputVideo && !!inputVideo,
      elementIds: model?.takesFrames ? bound : [],
    }),
    [code, prompt, mode, duration, aspect, images.length, startFrame, endFrame, inputVideo, bound, isVideo, model],
  );
  const draftSig = JSON.stringify({ ...previewInput, files: [images.map(fileSig), fileSig(startFrame), fileSig(endFrame), fileSig(inputVideo)] });
  // One key per draft: a double click or a retry of the same draft is one job, charged once;
  // any change to the draft is a new request.
  const idempotencyKey = useMemo(() => newKey(), [draftSig]);

  // The live preview, debounced; only the newest answer is shown.
  const [debouncedInput] = useDebouncedValue(previewInput, 300);
  const empty = !debouncedInput.prompt.trim() && !debouncedInput.startFrame;
  const [preview, setPreview] = useState<Preview | null>(null);
  const [previewing, setPreviewing] = useState(false);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const seq = useRef(0);
  useEffect(() => {
    if (empty) {
      setPreview(null);
      return;
    }
    const mine = ++seq.current;
    setPreviewing(true);
    const started = performance.now();
    client
      .query(PromptPreviewDocument, { input: debouncedInput }, { requestPolicy: "network-only" })
      .toPromise()
      .then((result) => {
        if (mine !== seq.current) return;
        try {
          performance.measure("preview-roundtrip", { start: started, end: performance.now() });
        } catch {
          /* measuring is best effort */
        }
        setPreviewing(false);
        if (result.data) {
          setPreview(result.data.generationPromptPreview);
          setPreviewError(null);
        } else {
          setPreviewError(problemOf(result.error)?.form ?? "The preview could not load.");
        }
      });
  }, [debouncedInput, empty, client]);

  // Problems by where they happened: the preview's issues, then what submit answered.
  const [submitProblem, setSubmitProblem] = useState<Problem | null>(null);
  useEffect(() => setSubmitProblem(null), [draftSig]);
  const at = useMemo(() => {
    const found: Partial<Record<Area, string[]>> = {};
    const add = (area: Area, message: string) => {
      const list = (found[area] ??= []);
      if (!list.includes(message)) list.push(message);
    };
    for (const issue of preview && !empty ? preview.issues : []) {
      const area = ISSUE_AREAS[issue.code] ?? areaOf(issue.field);
      if (area) add(area, issue.message);
    }
    if (submitProblem) {
      for (const [field, message] of Object.entries(submitProblem.fields)) add(areaOf(field), message);
      if (submitProblem.form) add("generate", submitProblem.form);
    }
    return (area: Area) => found[area] ?? [];
  }, [preview, empty, submitProblem]);

  const tooLong =
    model && inputVideo && videoSeconds != null && model.inputVideoMaxSeconds != null && model.inputVideoMinSeconds != null
      ? videoSeconds > model.inputVideoMaxSeconds + 0.05 || videoSeconds < model.inputVideoMinSeconds - 0.05
      : false;

  const [{ fetching: submitting }, submit] = useMutation(GenerationSubmitDocument);
  const inFlight = useRef(false);
  const generate = async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      const result = await submit({
        input: {
          model: previewInput.model,
          prompt: previewInput.prompt,
          mode: previewInput.mode,
          duration: previewInput.duration,
          aspectRatio: previewInput.aspectRatio,
          elementIds: previewInput.elementIds,
          images: model?.acceptsReferenceImages === false ? [] : images,
          startFrame: model?.takesFrames ? startFrame : null,
          endFrame: model?.takesFrames ? endFrame : null,
          inputVideo: model?.acceptsInputVideo ? inputVideo : null,
          idempotencyKey,
        },
      });
      const payload = result.data?.generationSubmit;
      if (payload?.__typename === "GenerationJobResult") {
        refresh();
        navigate(`/jobs/${encodeURIComponent(payload.job.id)}`);
        return;
      }
      setSubmitProblem(problemOf(result.error, payload));
    } finally {
      inFlight.current = false;
    }
  };

  const attachImages = (files: File[]) => {
    const first = images.length + 1;
    setImages((old) => [...old, ...files]);
    const mentions = files.map((_, i) => `[@Image${first + i}]`).join(" ");
    promptBox.current?.insert(mentions);
  };
  const removeImage = (index: number) => {
    const n = index + 1;
    setImages((old) => old.filter((_, i) => i !== index));
    // `[@ImageN]` goes, the ones after it move down by one.
    setPrompt((p) =>
      p
        .replace(new RegExp(`\\[@\\s*Image\\s*${n}\\s*\\] ?`, "gi"), "")
        .replace(/\[@\s*Image\s*(\d+)\s*\]/gi, (all, d: string) => (Number(d) > n ? `[@Image${Number(d) - 1}]` : all)),
    );
  };
  // An image's or the video's chip detaches the file too.
  const removeChip = (name: string): boolean => {
    const image = /^image\s*(\d+)$/i.exec(name);
    if (image && Number(image[1]) >= 1 && Number(image[1]) <= images.length) {
      removeImage(Number(image[1]) - 1);
      return true;
    }
    if (/^video$/i.test(name) && inputVideo) {
      setInputVideo(null);
      setPrompt((p) => removeMention(p, name));
      return true;
    }
    return false;
  };
  const pickVideo = (file: File) => {
    setInputVideo(file);
    setVideoSeconds(null);
    const probe = document.createElement("video");
    probe.preload = "metadata";
    const url = URL.createObjectURL(file);
    probe.onloadedmetadata = () => {
      if (Number.isFinite(probe.duration)) setVideoSeconds(probe.duration);
      URL.revokeObjectURL(url);
    };
    probe.onerror = () => URL.revokeObjectURL(url);
    probe.src = url;
    if (!/\[@\s*video\s*\]/i.test(prompt)) promptBox.current?.insert("[@Video]");
  };

  // Bound elements come from any library the viewer may use: the switcher picks the list, and
  // what is already bound stays bound (and labelled) when another library is shown.
  const [boundLibrary, setBoundLibrary] = useState(PERSONAL);
  const { libraries: boundLibraries } = useLibraries(boundLibrary);
  const { data: boundData } = useQuery({
    query: CreateElementsDocument,
    variables: { search: null, library: libraryArgument(boundLibrary) },
    pause: !model?.takesFrames,
  })[0];
  const [boundLabels, setBoundLabels] = useState<Record<string, string>>({});
  const boundLibraryName = boundLibrary === PERSONAL ? null : (boundLibraries?.find((l) => l.qualifier === boundLibrary)?.name ?? boundLibrary);
  const shownOptions = (boundData?.elements.edges ?? []).map(({ node }) => ({
    value: node.id,
    label: boundLibraryName ? `${node.name} (${boundLibraryName})` : node.name,
  }));
  const boundOptions = [
    ...shownOptions,
    ...bound.filter((id) => !shownOptions.some((o) => o.value === id)).map((id) => ({ value: id, label: boundLabels[id] ?? id })),
  ];
  const changeBound = (ids: string[]) => {
    const labels = { ...boundLabels };
    for (const option of shownOptions) if (ids.includes(option.value)) labels[option.value] = option.label;
    setBoundLabels(labels);
    setBound(ids);
  };

  // An unknown mention's close names, one click each, right under the prompt too.
  const fixes = (preview && !empty ? preview.issues : []).flatMap((issue) => issue.suggestions.map((name) => ({ issue, name })));
  const previewBlocked = !!preview && !empty && !preview.ok;
  const promptMessages = at("prompt");
  const generateMessages = at("generate");
  const credits = submitProblem?.codes.includes("INSUFFICIENT_CREDITS");

  return (
    <Stack gap="lg" py="md" className="create-page">
      <Group justify="space-between" align="flex-end" wrap="wrap">
        <Stack gap={2}>
          <Title order={1}>Create</Title>
          <Text c="dimmed">Pick a model, call up your elements with @, and check the price before you generate.</Text>
        </Stack>
        {me && (
          <Text size="sm" c="dimmed">
            Balance: {me.creditBalance} credits
          </Text>
        )}
      </Group>
      {catalogError && (
        <Alert color="red" role="alert" title="The models could not load">
          {catalogError.message}. Reload the page to try again.
        </Alert>
      )}
      <Grid gap="xl">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Stack gap="lg">
            <Stack gap="xs">
              <NativeSelect
                label="Model"
                value={code}
                onChange={(e) => setCode(e.currentTarget.value as GenerationModel)}
                data={models.length ? models.map((m) => ({ value: m.code, label: m.label })) : [{ value: code, label: "Loading models…" }]}
                error={at("model").join(" ") || undefined}
                size="md"
              />
              {model ? <ModelRules model={model} /> : <Skeleton h={84} radius="md" />}
            </Stack>

            <Stack gap="xs">
              <MentionPrompt
                ref={promptBox}
                value={prompt}
                onChange={setPrompt}
                description={model?.multiShot ? "Several shots: Shot 1 (3s): … Shot 2 (4s): … Lines in quotes are spoken." : undefined}
                error={promptMessages.length ? promptMessages.join(" ") : undefined}
              />
              {fixes.length > 0 && (
                <Group gap={6} aria-label="Suggested names">
                  {fixes.map(({ issue, name }) => (
                    <Button key={`${issue.message}-${name}`} size="compact-sm" variant="light" color="yellow" leftSection={<Wand2 size={12} aria-hidden />} onClick={() => setPrompt((p) => applyFix(p, issue, name))}>
                      Replace with {fixLabel(issue, name)}
                    </Button>
                  ))}
                </Group>
              )}
              <Group justify="space-between" gap="xs" wrap="wrap">
                <MentionChips value={prompt} onChange={setPrompt} onRemove={removeChip} />
                <Button variant="light" leftSection={<LibraryIcon size={16} aria-hidden />} onClick={() => setLibraryOpen(true)}>
                  Add from Element Library
                </Button>
              </Group>
            </Stack>

            {model?.acceptsReferenceImages !== false && (
              <Stack gap="xs" role="group" aria-label="Images">
                <Group justify="space-between">
                  <Text fw={600}>Images</Text>
                  <FilePick label="Attach images" text="Attach images" accept="image/jpeg,image/png,image/webp" multiple onFiles={attachImages} icon={<ImagePlus size={16} aria-hidden />} />
                </Group>
                {images.length > 0 ? (
                  <Group gap="sm">
                    {images.map((f, i) => (
                      <Thumb key={`${fileSig(f)}-${i}`} file={f} label={`Image${i + 1}`} onRemove={() => removeImage(i)} />
                    ))}
                  </Group>
                ) : (
                  <Text size="sm" c="dimmed">
                    Attached images are mentioned as [@Image1], [@Image2]…
                  </Text>
                )}
                <FieldError messages={at("attachedImages")} />
              </Stack>
            )}

            {model?.takesFrames && (
              <Card radius="md" bg="dark.7" p="md" role="group" aria-label="Start and end frame">
                <Stack gap="sm">
                  <Text fw={600}>Start and end frame</Text>
                  <Group gap="md" align="flex-start">
                    <Stack gap={6}>
                      {startFrame ? (
                        <Thumb file={startFrame} label="Start frame" onRemove={() => setStartFrame(null)} />
                      ) : (
                        <FilePick label="Start frame file" text="Start frame" accept="image/jpeg,image/png,image/webp" onFiles={(f) => setStartFrame(f[0])} icon={<ImagePlus size={16} aria-hidden />} />
                      )}
                      <FieldError messages={at("startFrame")} />
                    </Stack>
                    <Stack gap={6}>
                      {endFrame ? (
                        <Thumb file={endFrame} label="End frame" onRemove={() => setEndFrame(null)} />
                      ) : (
                        <FilePick label="End frame file" text="End frame" accept="image/jpeg,image/png,image/webp" onFiles={(f) => setEndFrame(f[0])} icon={<ImagePlus size={16} aria-hidden />} />
                      )}
                      <FieldError messages={at("endFrame")} />
                    </Stack>
                  </Group>
                  <Group gap="sm" align="flex-end" wrap="wrap">
                    {boundLibraries && boundLibraries.length > 1 && (
                      <LibrarySwitcher libraries={boundLibraries.filter((l) => l.viewerCan.use)} value={boundLibrary} onChange={setBoundLibrary} label="Bind from library" />
                    )}
                    <MultiSelect
                      label="Bound elements"
                      description={`Bind elements to enhance consistency (up to ${model.maxBoundElements}).`}
                      data={boundOptions}
                      value={bound}
                      onChange={changeBound}
                      hidePickedOptions
                      searchable
                      clearable
                      placeholder={shownOptions.length ? "Pick elements" : "No usable elements in this library yet"}
                      error={at("elementIds").join(" ") || undefined}
                      style={{ flex: "2 1 320px" }}
                    />
                  </Group>
                </Stack>
              </Card>
            )}

            {model?.acceptsInputVideo && (
              <Stack gap="xs" role="group" aria-label="Input video">
                <Group justify="space-between">
                  <Text fw={600}>Input video</Text>
                  {!inputVideo && <FilePick label="Input video file" text="Add a video" accept="video/mp4,video/quicktime" onFiles={(f) => pickVideo(f[0])} icon={<Film size={16} aria-hidden />} />}
                </Group>
                {inputVideo ? (
                  <Group gap="sm">
                    <Thumb file={inputVideo} label="Video" onRemove={() => setInputVideo(null)} />
                    <Text size="sm" c={tooLong ? "red.5" : "dimmed"} role={tooLong ? "alert" : undefined}>
                      {videoSeconds != null ? `${videoSeconds.toFixed(1)} s` : inputVideo.name}
                      {tooLong ? `: ${model.label} takes ${model.inputVideoMinSeconds}–${model.inputVideoMaxSeconds} s videos.` : ""}
                    </Text>
                  </Group>
                ) : (
                  <Text size="sm" c="dimmed">
                    MP4 or MOV, {model.inputVideoMinSeconds}–{model.inputVideoMaxSeconds} s, mentioned as [@Video]. Up to {model.maxReferencesWithInputVideo} references with a video.
                  </Text>
                )}
                <FieldError messages={at("inputVideo")} />
              </Stack>
            )}

            {isVideo && model && (
              <SimpleGrid cols={{ base: 1, xs: 3 }}>
                <NativeSelect label="Mode" value={mode} onChange={(e) => setMode(e.currentTarget.value)} data={model.modes.map((m) => ({ value: m, label: m === "pro" ? "Pro" : "Standard" }))} error={at("mode").join(" ") || undefined} />
                <NativeSelect
                  label="Duration"
                  value={duration}
                  onChange={(e) => setDuration(e.currentTarget.value)}
                  data={[{ value: "", label: "From the shots" }, ...model.durations.map((d) => ({ value: String(d), label: `${d} s` }))]}
                  error={at("duration").join(" ") || undefined}
                />
                <NativeSelect label="Aspect ratio" value={aspect} onChange={(e) => setAspect(e.currentTarget.value)} data={model.aspectRatios} error={at("aspectRatio").join(" ") || undefined} />
              </SimpleGrid>
            )}
            {!isVideo && model && (
              <NativeSelect label="Aspect ratio" value={aspect} onChange={(e) => setAspect(e.currentTarget.value)} data={model.aspectRatios} error={at("aspectRatio").join(" ") || undefined} />
            )}

            <Stack gap="xs">
              <Group gap="md" wrap="wrap">
                <Button
                  size="lg"
                  leftSection={<Sparkles size={18} aria-hidden />}
                  onClick={generate}
                  loading={submitting}
                  disabled={!prompt.trim() && !startFrame}
                  aria-describedby={previewBlocked ? "generate-blocked" : undefined}
                >
                  Generate
                </Button>
                {preview?.price != null && !empty && (
                  <Text c="dimmed" size="sm">
                    {preview.price} credits
                  </Text>
                )}
              </Group>
              {previewBlocked && (
                <Text id="generate-blocked" size="sm" c="orange.4">
                  The preview lists what to fix before this can run.
                </Text>
              )}
              <FieldError messages={generateMessages} />
              {credits && (
                <Text size="sm">
                  <Link to="/account">See your credits and ledger</Link>
                </Text>
              )}
            </Stack>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Box className="create-preview-wrap">
            {previewError && (
              <Alert color="red" role="alert" mb="sm">
                {previewError}
              </Alert>
            )}
            <PreviewPanel
              preview={empty ? null : preview}
              loading={previewing}
              empty={empty}
              balance={me?.creditBalance ?? null}
              onFix={(issue, name) => setPrompt((p) => applyFix(p, issue, name))}
            />
          </Box>
        </Grid.Col>
      </Grid>
      <LibraryPicker opened={libraryOpen} onClose={() => setLibraryOpen(false)} onPick={(mention) => promptBox.current?.insert(mention)} />
    </Stack>
  );
}
