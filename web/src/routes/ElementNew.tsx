import {
  ActionIcon,
  Alert,
  Badge,
  Box,
  Button,
  Checkbox,
  Group,
  Paper,
  Progress,
  Radio,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Stepper,
  Text,
  TextInput,
  Textarea,
  Title,
} from "@mantine/core";
import { useDebouncedValue, useMediaQuery } from "@mantine/hooks";
import { ArrowLeft, ArrowRight, Check, Sparkles, Trash2, Users, Wand2 } from "lucide-react";
import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { useClient, useMutation, useQuery } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { TYPE_LABELS, TYPES, VOICE_TYPES } from "../app/labels";
import { createBlockedReason, libraryArgument, librarySearch, qualifierOf, useLibraries } from "../app/libraries";
import { useSession } from "../app/session";
import { FileDrop, IMAGE_ACCEPT } from "../components/FileDrop";
import { HistoryPicker } from "../components/HistoryPicker";
import { MediaImage } from "../components/Media";
import { PlayButton } from "../components/PlayButton";
import {
  QualityWarnings,
  VoiceLibraryPicker,
  VoiceUploader,
  type ChosenVoice,
} from "../components/VoiceParts";
import { JobProgressDocument, UpdateDocument } from "../app/documents";
import { graphql } from "../gql";
import type { ElementType } from "../gql/graphql";

const DetectDocument = graphql(`
  query SubjectTypeDetect($image: Upload!) {
    subjectTypeDetect(image: $image) {
      ... on SubjectTypeSuggestion {
        type
        confidence
        evidence
      }
      ... on OperationInfo {
        messages {
          field
          message
          code
        }
      }
    }
  }
`);

const NameCheckDocument = graphql(`
  query ElementNameCheck($search: String!, $library: String) {
    elements(search: $search, first: 20, library: $library) {
      edges {
        node {
          id
          name
        }
      }
    }
  }
`);

const CreateDocument = graphql(`
  mutation ElementCreate($input: ElementCreateInput!) {
    elementCreate(input: $input) {
      ... on ElementWithWarningsResult {
        element {
          id
          name
          version
        }
        multiViewJob {
          id
          status
          progress
        }
      }
      ... on OperationInfo {
        messages {
          field
          message
          code
        }
      }
    }
  }
`);


const DescribeDocument = graphql(`
  query ElementDescribe($id: ID!) {
    elementDescribe(elementId: $id) {
      ... on ElementDescriptionSuggestion {
        description
      }
      ... on OperationInfo {
        messages {
          field
          message
          code
        }
      }
    }
  }
`);


type Main =
  | { kind: "file"; file: File; preview: string }
  | { kind: "history"; outputId: string; preview: string };

interface Suggestion {
  type: ElementType;
  confidence: number;
  evidence: string;
}

type StepKey = "image" | "type" | "voice" | "more" | "details";
const STEP_FIELDS: Record<StepKey, string[]> = {
  image: ["mainImage", "mainImageFromHistory"],
  type: ["type"],
  voice: ["voice", "voiceId", "voiceFile", "voiceName", "consentStatement"],
  more: ["extraImages", "images", "multiView"],
  details: ["name", "description"],
};

/** Creating a multi-image element as the guide's steps, one at a time. Everything entered
 * stays in this page's state: a refused save goes back to the step of the field at fault,
 * and a lost session is a sign-in dialog over the wizard, not a new page. */
export default function ElementNew() {
  const navigate = useNavigate();
  const client = useClient();
  const { me, refresh, setSessionLost } = useSession();
  // The library the element goes to (?library=<team handle>; none: the viewer's own).
  const [params] = useSearchParams();
  const qualifier = qualifierOf(params.get("library"));
  const library = libraryArgument(qualifier);
  const { current: target } = useLibraries(qualifier);
  const [active, setActive] = useState(0);
  const [main, setMain] = useState<Main | null>(null);
  const [detecting, setDetecting] = useState(false);
  const [suggestion, setSuggestion] = useState<Suggestion | null>(null);
  const [type, setType] = useState<ElementType | null>(null);
  const [voiceMode, setVoiceMode] = useState<"upload" | "library" | "none">("none");
  const narrow = useMediaQuery("(max-width: 30em)") ?? false;
  const [voice, setVoice] = useState<ChosenVoice | null>(null);
  const [extras, setExtras] = useState<{ file: File; preview: string }[]>([]);
  const [multiView, setMultiView] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [autoDescribe, setAutoDescribe] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saving, setSaving] = useState<string | null>(null);
  const [jobProgress, setJobProgress] = useState<number | null>(null);
  const [, create] = useMutation(CreateDocument);
  const [, update] = useMutation(UpdateDocument);
  const headingRef = useRef<HTMLHeadingElement>(null);

  const steps = useMemo<StepKey[]>(
    () => (type && VOICE_TYPES.includes(type) ? ["image", "type", "voice", "more", "details"] : ["image", "type", "more", "details"]),
    [type],
  );
  const step = steps[Math.min(active, steps.length - 1)];
  const stepProblem = pick(problem, STEP_FIELDS[step]);

  // Focus follows the step: its heading, so screen readers and keyboards start at the top.
  useEffect(() => headingRef.current?.focus(), [step]);

  const chooseMain = async (next: Main, file: File) => {
    setMain(next);
    setProblem(null);
    setDetecting(true);
    const result = await client.query(DetectDocument, { image: file }, { requestPolicy: "network-only" }).toPromise();
    setDetecting(false);
    const payload = result.data?.subjectTypeDetect;
    const found = problemOf(result.error, payload);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      // The service names the upload `image` here; it is the main image of the element.
      const fields = Object.fromEntries(Object.entries(found.fields).map(([f, m]) => [f === "image" ? "mainImage" : f, m]));
      setProblem({ ...found, fields });
      return;
    }
    if (payload?.__typename === "SubjectTypeSuggestion") {
      setSuggestion(payload);
      setType((current) => current ?? payload.type);
    }
  };

  const mainOk = !!main && !detecting && !problem?.fields.mainImage;
  const canNext: Record<StepKey, boolean> = {
    image: mainOk,
    type: !!type,
    voice: voiceMode === "none" || !!voice,
    more: multiView || extras.length >= 1,
    details: name.trim().length > 0,
  };

  const goTo = (key: StepKey) => setActive(steps.indexOf(key));

  const save = async () => {
    if (!main || !type) return;
    setProblem(null);
    setSaving("Saving the element…");
    const result = await create({
      input: {
        name: name.trim(),
        type,
        description: description.trim(),
        mainImage: main.kind === "file" ? main.file : null,
        mainImageFromHistory: main.kind === "history" ? { outputId: main.outputId } : null,
        extraImages: extras.map((x) => x.file),
        voice: voiceMode !== "none" && voice && VOICE_TYPES.includes(type) ? { voiceId: voice.id } : null,
        multiView,
        library,
      },
    });
    const payload = result.data?.elementCreate;
    const found = problemOf(result.error, payload);
    if (found || payload?.__typename !== "ElementWithWarningsResult") {
      setSaving(null);
      const shown = found ?? { fields: {}, form: "The element could not be saved.", codes: [] };
      if (isSessionProblem(shown)) {
        setSessionLost(true);
        shown.form = "Your session ended. Sign in again, then press Create element: everything here is kept.";
      }
      setProblem(shown);
      // Back to the first step holding a field at fault; what was entered stays.
      const at = steps.find((s) => Object.keys(shown.fields).some((f) => STEP_FIELDS[s].includes(f.split(".")[0])));
      if (at) goTo(at);
      return;
    }
    const element = payload.element;
    if (payload.multiViewJob) {
      setSaving("AI multi-view completion: making the other views…");
      const outcome = await followJob(payload.multiViewJob.id);
      if (outcome) setProblem({ fields: {}, form: outcome, codes: [] });
    }
    if (autoDescribe && !description.trim()) {
      setSaving("Writing the description…");
      const described = await client.query(DescribeDocument, { id: element.id }, { requestPolicy: "network-only" }).toPromise();
      const d = described.data?.elementDescribe;
      if (d?.__typename === "ElementDescriptionSuggestion" && d.description) {
        await update({ input: { id: element.id, description: d.description } });
      }
    }
    refresh();
    navigate(`/elements/${encodeURIComponent(element.id)}?created=1`);
  };

  /** Polls the multi-view job until it ends; returns why it failed, or null. */
  const followJob = async (id: string): Promise<string | null> => {
    for (;;) {
      const r = await client.query(JobProgressDocument, { id }, { requestPolicy: "network-only" }).toPromise();
      const job = r.data?.generationJob;
      if (!job) return null;
      setJobProgress(job.progress);
      if (job.status === "SUCCEEDED") return null;
      if (job.status === "FAILED" || job.status === "CANCELED")
        return `AI multi-view failed: ${job.errorMessage || "no views were made"}.${job.refunded ? " It was given back." : ""}`;
      await new Promise((resolve) => setTimeout(resolve, 800));
    }
  };

  const teamTarget = target?.kind === "TEAM" ? target : null;
  const blockedReason = teamTarget
    ? createBlockedReason(teamTarget)
    : me && !me.canCreateElements
      ? (me.elementQuotaReason ?? `You have ${me.elementCount} of ${me.elementLimit} elements.`)
      : null;
  const quotaBlocked = !!blockedReason || target === null;
  const stepTitles: Record<StepKey, string> = {
    image: "Main image",
    type: "Subject type",
    voice: "Voice",
    more: "More angles",
    details: "Name",
  };

  return (
    <Stack gap="lg" py="md" maw={960} mx="auto">
      <Group gap="sm">
        <ActionIcon variant="subtle" onClick={() => navigate(`/library${librarySearch(qualifier)}`)} aria-label="Back to the library">
          <ArrowLeft size={18} />
        </ActionIcon>
        <Title order={1}>Create element</Title>
        {teamTarget && (
          <Badge variant="light" color="violet" size="lg" leftSection={<Users size={12} aria-hidden />} aria-label={`In ${teamTarget.name}'s library`}>
            {teamTarget.name}
          </Badge>
        )}
      </Group>
      {target === null && (
        <Alert color="orange" title="This library isn't available" role="alert">
          There is no team “{qualifier}” among yours: it may have been deleted, or you are no longer a member.
        </Alert>
      )}
      {blockedReason && (
        <Alert color="orange" title="You can't create elements right now" role="alert">
          {blockedReason}
        </Alert>
      )}
      <Stepper
        active={active}
        onStepClick={(i) => i < active && setActive(i)}
        size="sm"
        aria-label="Steps"
        visibleFrom="sm"
      >
        {steps.map((s) => (
          <Stepper.Step key={s} label={stepTitles[s]} aria-label={`Step: ${stepTitles[s]}`} />
        ))}
      </Stepper>
      {/* On a phone the five labels don't fit: the step's number and name, and a bar. */}
      <Stack gap={6} hiddenFrom="sm">
        <Text size="sm" c="dimmed">
          Step {active + 1} of {steps.length} · {stepTitles[step]}
        </Text>
        <Progress value={((active + 1) / steps.length) * 100} size="sm" aria-hidden />
      </Stack>
      <Paper withBorder radius="lg" p={{ base: "md", sm: "xl" }} bg="dark.7">
        <Stack gap="lg">
          <Title order={2} size="h3" ref={headingRef} tabIndex={-1} style={{ outline: "none" }}>
            {
              {
                image: "Start with the main image",
                type: "What is it?",
                voice: "Give your character a voice",
                more: "Add more angles",
                details: "Name and describe it",
              }[step]
            }
          </Title>

          {step === "image" && (
            <SimpleGrid cols={{ base: 1, sm: 2 }} spacing="lg">
              <Stack gap="sm">
                <FileDrop
                  label="Main image"
                  hint="A clear, front-facing JPEG, PNG or WebP, at least 300 px a side"
                  accept={IMAGE_ACCEPT}
                  error={stepProblem?.fields.mainImage ?? stepProblem?.fields.mainImageFromHistory}
                  onFiles={(files) => chooseMain({ kind: "file", file: files[0], preview: URL.createObjectURL(files[0]) }, files[0])}
                />
                <Group justify="center">
                  <HistoryPicker
                    onPick={async (c) => {
                      const blob = await (await fetch(c.imageUrl)).blob();
                      const file = new File([blob], "history.png", { type: blob.type });
                      await chooseMain({ kind: "history", outputId: c.outputId, preview: c.imageUrl }, file);
                    }}
                  />
                </Group>
              </Stack>
              <Box>
                {main ? (
                  <Stack gap={6}>
                    <MediaImage src={main.preview} alt="The chosen main image" ratio="1 / 1" contain eager />
                    <Text size="sm" c="dimmed" aria-live="polite">
                      {detecting
                        ? "Looking at the image…"
                        : problem?.fields.mainImage
                          ? "This image can't be used: choose another."
                          : suggestion
                            ? `Looks like a ${TYPE_LABELS[suggestion.type].toLowerCase()}.`
                            : ""}
                    </Text>
                  </Stack>
                ) : (
                  <div className="media-frame" style={{ aspectRatio: "1 / 1", animation: "none" }} aria-hidden />
                )}
              </Box>
            </SimpleGrid>
          )}

          {step === "type" && (
            <Stack gap="md">
              {suggestion && (
                <Alert color="violet" variant="light" icon={<Sparkles size={16} />}>
                  Suggested: <b>{TYPE_LABELS[suggestion.type]}</b> ({Math.round(suggestion.confidence * 100)}% sure) —{" "}
                  {suggestion.evidence}. Confirm it or choose another.
                </Alert>
              )}
              <Radio.Group value={type} onChange={(v) => setType(v as ElementType)} label="Type" error={stepProblem?.fields.type}>
                <SimpleGrid cols={{ base: 2, sm: 4 }} mt="xs">
                  {TYPES.map((t) => (
                    <Paper key={t} withBorder p="sm" radius="md" bg={type === t ? "dark.5" : "dark.6"}>
                      <Radio
                        value={t}
                        label={
                          <Group gap={6}>
                            {TYPE_LABELS[t]}
                            {suggestion?.type === t && (
                              <Badge size="xs" variant="light">
                                suggested
                              </Badge>
                            )}
                          </Group>
                        }
                      />
                    </Paper>
                  ))}
                </SimpleGrid>
              </Radio.Group>
            </Stack>
          )}

          {step === "voice" && (
            <Stack gap="md">
              <SegmentedControl
                value={voiceMode}
                onChange={(v) => {
                  setVoiceMode(v as typeof voiceMode);
                  setVoice(null);
                }}
                data={[
                  { value: "upload", label: "Upload a sample" },
                  { value: "library", label: "Voice Library" },
                  { value: "none", label: "No voice" },
                ]}
                aria-label="Voice source"
                fullWidth
                // Three labels don't fit side by side on a phone: stack them there.
                orientation={narrow ? "vertical" : "horizontal"}
              />
              {voiceMode === "upload" &&
                (voice ? (
                  <Stack gap="sm">
                    <Group>
                      <PlayButton url={voice.audioUrl} name={voice.name} />
                      <Text fw={600}>{voice.name}</Text>
                      <Badge color="green" variant="light" leftSection={<Check size={12} />}>
                        Uploaded to your voices
                      </Badge>
                    </Group>
                    <QualityWarnings warnings={voice.warnings} />
                    <Group>
                      <Button variant="subtle" onClick={() => setVoice(null)}>
                        Use another sample
                      </Button>
                    </Group>
                  </Stack>
                ) : (
                  <VoiceUploader onUploaded={setVoice} submitLabel="Upload and use this voice" library={library} />
                ))}
              {voiceMode === "library" && <VoiceLibraryPicker value={voice?.id ?? null} onChange={setVoice} library={library} />}
              {voiceMode === "none" && (
                <Text c="dimmed">The character won't speak. You can bind a voice later on its page.</Text>
              )}
              {stepProblem?.form && step === "voice" && <Text c="red.5">{stepProblem.form}</Text>}
              {Object.values(stepProblem?.fields ?? {}).map((m) => (
                <Text key={m} c="red.5" role="alert">
                  {m}
                </Text>
              ))}
            </Stack>
          )}

          {step === "more" && (
            <Stack gap="md">
              <Text c="dimmed">
                1–3 more images of the same subject from other angles make it look the same in every shot.
              </Text>
              <SimpleGrid cols={{ base: 2, sm: 4 }} spacing="sm">
                {main && <MediaImage src={main.preview} alt="Main image" ratio="1 / 1" />}
                {extras.map((x, i) => (
                  <Stack key={x.preview} gap={4}>
                    <Box pos="relative">
                      <MediaImage src={x.preview} alt={`Extra image ${i + 1}`} ratio="1 / 1" />
                      <ActionIcon
                        pos="absolute"
                        top={6}
                        right={6}
                        color="dark"
                        variant="filled"
                        onClick={() => setExtras((all) => all.filter((_, j) => j !== i))}
                        aria-label={`Remove extra image ${i + 1}`}
                      >
                        <Trash2 size={14} />
                      </ActionIcon>
                    </Box>
                    {stepProblem?.fields[`extraImages.${i}`] && (
                      <Text size="xs" c="red.5" role="alert">
                        {stepProblem.fields[`extraImages.${i}`]}
                      </Text>
                    )}
                  </Stack>
                ))}
              </SimpleGrid>
              {extras.length < 3 && (
                <FileDrop
                  label="Extra images"
                  hint={`Add up to ${3 - extras.length} more (JPEG, PNG or WebP)`}
                  accept={IMAGE_ACCEPT}
                  multiple
                  error={stepProblem?.fields.images}
                  onFiles={(files) => {
                    setProblem(null);
                    setExtras((all) => [...all, ...files.map((file) => ({ file, preview: URL.createObjectURL(file) }))].slice(0, 3));
                  }}
                />
              )}
              <Paper withBorder p="md" radius="md" bg={multiView ? "dark.5" : "dark.6"}>
                <Checkbox
                  checked={multiView}
                  onChange={(e) => setMultiView(e.currentTarget.checked)}
                  disabled={extras.length >= 3}
                  label={
                    <Group gap={6}>
                      <Wand2 size={16} aria-hidden /> AI multi-view completion
                    </Group>
                  }
                  description={
                    me
                      ? me.freeMultiviewUsesLeftToday > 0
                        ? `Fills the free slots with views made from the main image. Free: ${me.freeMultiviewUsesLeftToday} of ${me.freeMultiviewUsesPerDay} free uses left today.`
                        : `Fills the free slots with views made from the main image. ${me.multiviewPriceCredits} credits (you have ${me.creditBalance}); given back if it fails.`
                      : undefined
                  }
                  error={stepProblem?.fields.multiView}
                />
              </Paper>
              {stepProblem?.form && <Text c="red.5" role="alert">{stepProblem.form}</Text>}
            </Stack>
          )}

          {step === "details" && (
            <DetailsStep
              name={name}
              setName={setName}
              description={description}
              setDescription={setDescription}
              autoDescribe={autoDescribe}
              setAutoDescribe={setAutoDescribe}
              problem={stepProblem}
              library={library}
              libraryName={teamTarget?.name ?? null}
            />
          )}

          {saving && (
            <Stack gap={4} aria-live="polite">
              <Text size="sm">{saving}</Text>
              <Progress value={jobProgress ?? 100} animated striped aria-label={saving} />
            </Stack>
          )}

          <Group justify="space-between">
            <Button
              variant="default"
              leftSection={<ArrowLeft size={16} />}
              onClick={() => setActive((a) => Math.max(0, a - 1))}
              disabled={active === 0 || !!saving}
            >
              Back
            </Button>
            {step !== "details" ? (
              <Button rightSection={<ArrowRight size={16} />} onClick={() => setActive((a) => a + 1)} disabled={!canNext[step]}>
                Next
              </Button>
            ) : (
              <Button onClick={save} loading={!!saving} disabled={!canNext.details || !!quotaBlocked} leftSection={<Check size={16} />}>
                Create element
              </Button>
            )}
          </Group>
        </Stack>
      </Paper>
    </Stack>
  );
}

function DetailsStep(props: {
  name: string;
  setName: (v: string) => void;
  description: string;
  setDescription: (v: string) => void;
  autoDescribe: boolean;
  setAutoDescribe: (v: boolean) => void;
  problem: Problem | null;
  library: string | null;
  libraryName: string | null;
}) {
  const { name, setName, description, setDescription, autoDescribe, setAutoDescribe, problem, library, libraryName } = props;
  const [typed] = useDebouncedValue(name.trim(), 250);
  const [{ data }] = useQuery({ query: NameCheckDocument, variables: { search: typed, library }, pause: typed.length === 0 });
  const taken = typed && data?.elements.edges.some((e) => e.node.name.toLowerCase() === typed.toLowerCase());
  const nameError =
    problem?.fields.name ??
    (taken
      ? libraryName
        ? `${libraryName} already has an element named “${typed}”. Choose another name.`
        : `You already have an element named “${typed}”. Choose another name.`
      : undefined);
  return (
    <Stack gap="md">
      <TextInput
        label="Name"
        description="How you mention it in prompts, e.g. @Little Scholar (up to 40 characters)"
        value={name}
        onChange={(e) => setName(e.currentTarget.value)}
        error={nameError}
        maxLength={40}
        data-autofocus
      />
      <Textarea
        label="Description"
        description="Key features that must stay the same (optional, up to 500 characters)"
        value={description}
        onChange={(e) => setDescription(e.currentTarget.value)}
        error={problem?.fields.description}
        autosize
        minRows={3}
        maxLength={500}
        disabled={autoDescribe}
      />
      <Checkbox
        label="AI auto-description: describe it from the main image after saving (you can edit it on its page)"
        checked={autoDescribe}
        onChange={(e) => {
          setAutoDescribe(e.currentTarget.checked);
          if (e.currentTarget.checked) setDescription("");
        }}
      />
      {problem?.form && (
        <Alert color="red" role="alert">
          {problem.form}
        </Alert>
      )}
    </Stack>
  );
}
