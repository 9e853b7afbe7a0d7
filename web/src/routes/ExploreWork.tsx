import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Center,
  Code,
  Grid,
  Group,
  Modal,
  Radio,
  Select,
  Stack,
  Text,
  Textarea,
  Title,
} from "@mantine/core";
import { ArrowLeft, Flag, Repeat2, TriangleAlert } from "lucide-react";
import { useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { useMutation, useQuery } from "urql";

import { isSessionProblem, problemOf, type Problem } from "../app/errors";
import {
  IMAGE_ASPECT_RATIOS,
  idempotencyKey,
  KIND_LABELS,
  MODEL_LABELS,
  VIDEO_ASPECT_RATIOS,
  VIDEO_DURATIONS,
} from "../app/explore";
import { when } from "../app/labels";
import { useSession } from "../app/session";
import { graphql } from "../gql";
import type { ExploreWorkPageQuery } from "../gql/graphql";

const ExploreWorkPageDocument = graphql(`
  query ExploreWorkPage($id: ID!) {
    exploreWork(id: $id) {
      id
      title
      caption
      authorName
      model
      outputKind
      promptText
      recreateCount
      createdAt
      output {
        kind
        width
        height
        durationMs
        hasAudio
        url
        posterUrl
      }
    }
  }
`);

const ExploreRecreateDocument = graphql(`
  mutation ExploreRecreate($workId: ID!, $overrides: ExploreRecreateOverrides, $idempotencyKey: String) {
    exploreRecreate(workId: $workId, overrides: $overrides, idempotencyKey: $idempotencyKey) {
      ... on ExploreRecreateResult {
        job {
          id
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

const ExploreReportDocument = graphql(`
  mutation ExploreReport($workId: ID!, $reason: String!) {
    exploreReport(workId: $workId, reason: $reason) {
      ... on ExploreReportResult {
        reported
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

type Work = NonNullable<ExploreWorkPageQuery["exploreWork"]>;

/** Codes that mean the work left the feed since the page was read. */
const GONE_CODES = ["WORK_HIDDEN", "WORK_UNSHARED", "WORK_PENDING", "NOT_FOUND"];

export const REPORT_REASONS = [
  "Sexual or explicit content",
  "Violence or gore",
  "Hate or harassment",
  "Uses someone's likeness without consent",
  "Copyright or trademark",
  "Spam or misleading",
  "Something else",
];

function Player({ work }: { work: Work }) {
  const { output } = work;
  const ratio = `${output.width} / ${output.height}`;
  return (
    <Box
      className="media-frame contain"
      style={{ aspectRatio: ratio, maxHeight: "72vh", width: "100%", marginInline: "auto" }}
    >
      {output.kind === "VIDEO" ? (
        <video
          controls
          playsInline
          preload="metadata"
          poster={output.posterUrl}
          src={output.url}
          aria-label={`Video: ${work.title}`}
        />
      ) : (
        <img src={output.url} alt={work.title} decoding="async" />
      )}
    </Box>
  );
}

/** Which dialog field a message of the service belongs to ("overrides.promptText",
 * "duration", …); the rest is the dialog's own. */
function recreateFields(problem: Problem | null) {
  const out = { prompt: null as string | null, duration: null as string | null, aspect: null as string | null, form: [] as string[] };
  if (!problem) return out;
  if (problem.form) out.form.push(problem.form);
  for (const [field, message] of Object.entries(problem.fields)) {
    const f = field.toLowerCase();
    if (f.includes("prompt")) out.prompt = message;
    else if (f.includes("duration")) out.duration = message;
    else if (f.includes("aspect")) out.aspect = message;
    else out.form.push(message);
  }
  return out;
}

function RecreateDialog({ work, opened, onClose }: { work: Work; opened: boolean; onClose: () => void }) {
  const navigate = useNavigate();
  const { refresh } = useSession();
  const [, recreate] = useMutation(ExploreRecreateDocument);
  const [prompt, setPrompt] = useState(work.promptText);
  const [duration, setDuration] = useState<string>("");
  const [aspect, setAspect] = useState<string>("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  // One key per request as the user composed it: a retry of the same input (after a lost
  // answer) is the same job and one charge; any edit is a new request.
  const key = useRef(idempotencyKey());
  const edited = () => {
    key.current = idempotencyKey();
  };
  const video = work.output.kind === "VIDEO";
  const errors = recreateFields(problem);
  const gone = !!problem && problem.codes.some((c) => GONE_CODES.includes(c));

  const submit = async () => {
    setBusy(true);
    setProblem(null);
    const overrides = {
      promptText: prompt === work.promptText ? null : prompt,
      duration: duration ? Number(duration) : null,
      aspectRatio: aspect || null,
    };
    const result = await recreate({ workId: work.id, overrides, idempotencyKey: key.current });
    const payload = result.data?.exploreRecreate;
    const found = problemOf(result.error, payload);
    setBusy(false);
    if (found) {
      setProblem(found);
      return;
    }
    if (payload && "job" in payload) {
      refresh();
      navigate(`/jobs/${encodeURIComponent(payload.job.id)}`);
    }
  };

  return (
    <Modal opened={opened} onClose={onClose} title={`Recreate “${work.title}”`} size="lg" centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            A new {KIND_LABELS[work.output.kind].toLowerCase()} from the same recipe ({MODEL_LABELS[work.model]}), charged
            to you at today&apos;s price. Change the words around the mentions (like <Code>[@Name]</Code>), not the mentions
            themselves.
          </Text>
          <Textarea
            label="Prompt"
            value={prompt}
            onChange={(e) => {
              setPrompt(e.currentTarget.value);
              edited();
            }}
            rows={6}
            resize="vertical"
            error={errors.prompt}
            data-autofocus
          />
          <Group grow align="flex-start">
            {video && (
              <Select
                label="Duration"
                data={[{ value: "", label: "As the original" }, ...VIDEO_DURATIONS.map((s) => ({ value: String(s), label: `${s} s` }))]}
                value={duration}
                onChange={(v) => {
                  setDuration(v ?? "");
                  edited();
                }}
                allowDeselect={false}
                error={errors.duration}
              />
            )}
            <Select
              label="Aspect ratio"
              data={[
                { value: "", label: "As the original" },
                ...(video ? VIDEO_ASPECT_RATIOS : IMAGE_ASPECT_RATIOS).map((r) => ({ value: r, label: r })),
              ]}
              value={aspect}
              onChange={(v) => {
                setAspect(v ?? "");
                edited();
              }}
              allowDeselect={false}
              error={errors.aspect}
            />
          </Group>
          {gone ? (
            <Alert color="orange" variant="light" role="alert" title="This work can't be recreated any more" icon={<TriangleAlert size={18} />}>
              {errors.form.join(" ")} Nothing was charged. <Anchor component={Link} to="/explore" c="inherit" fw={600} underline="always">
                Back to Explore
              </Anchor>
            </Alert>
          ) : (
            errors.form.length > 0 && (
              <Alert color="red" role="alert">
                {errors.form.join(" ")}
                {isSessionProblem(problem) ? " Log in again, then retry." : ""}
              </Alert>
            )
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={busy} disabled={gone} leftSection={<Repeat2 size={16} />}>
              Recreate
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function ReportDialog({
  work,
  opened,
  onClose,
  onReported,
}: {
  work: Work;
  opened: boolean;
  onClose: () => void;
  onReported: () => void;
}) {
  const [, report] = useMutation(ExploreReportDocument);
  const [choice, setChoice] = useState<string>("");
  const [details, setDetails] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [missing, setMissing] = useState(false);

  const submit = async () => {
    if (!choice) {
      setMissing(true);
      return;
    }
    setBusy(true);
    setProblem(null);
    const reason = details.trim() ? `${choice}: ${details.trim()}` : choice;
    const result = await report({ workId: work.id, reason });
    const payload = result.data?.exploreReport;
    const found = problemOf(result.error, payload);
    setBusy(false);
    if (found) setProblem(found);
    else onReported();
  };
  const reasonError = missing ? "Choose what is wrong with it." : (problem?.fields.reason ?? null);
  const formErrors = problem
    ? [problem.form, ...Object.entries(problem.fields).filter(([f]) => f !== "reason").map(([, m]) => m)].filter(Boolean)
    : [];

  return (
    <Modal opened={opened} onClose={onClose} title={`Report “${work.title}”`} centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Stack gap="md">
          <Radio.Group
            label="Reason"
            description="Staff will look at it; the author is not told who reported it."
            value={choice}
            onChange={(v) => {
              setChoice(v);
              setMissing(false);
            }}
            error={reasonError}
          >
            <Stack gap={8} mt="xs">
              {REPORT_REASONS.map((r, i) => (
                <Radio key={r} value={r} label={r} data-autofocus={i === 0 ? true : undefined} />
              ))}
            </Stack>
          </Radio.Group>
          <Textarea
            label="Details (optional)"
            value={details}
            onChange={(e) => setDetails(e.currentTarget.value)}
            rows={2}
            resize="vertical"
            maxLength={400}
          />
          {formErrors.length > 0 && (
            <Alert color="red" role="alert">
              {formErrors.join(" ")}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" color="red" loading={busy} leftSection={<Flag size={16} />}>
              Send report
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function WorkSkeleton() {
  return (
    <Grid gap="xl" py="md" aria-busy="true" aria-label="Loading the work">
      <Grid.Col span={{ base: 12, md: 8 }}>
        <div className="media-frame" style={{ aspectRatio: "16 / 9" }} />
      </Grid.Col>
      <Grid.Col span={{ base: 12, md: 4 }}>
        <Stack gap="sm">
          <div className="media-frame" style={{ height: 32, width: "70%" }} />
          <div className="media-frame" style={{ height: 16, width: "40%" }} />
          <div className="media-frame" style={{ height: 120 }} />
        </Stack>
      </Grid.Col>
    </Grid>
  );
}

export default function ExploreWorkPage() {
  const { id = "" } = useParams();
  const [result, reexecute] = useQuery({ query: ExploreWorkPageDocument, variables: { id } });
  const [recreating, setRecreating] = useState(false);
  const [reporting, setReporting] = useState(false);
  // Each opening starts a fresh dialog (a new idempotency key, the work's prompt again);
  // closed dialogs stay mounted so focus goes back to their button.
  const [openings, setOpenings] = useState(0);
  const [reported, setReported] = useState(false);
  const { data, error } = result;

  const back = (
    <Anchor component={Link} to="/explore" size="sm">
      <Group gap={4} component="span">
        <ArrowLeft size={14} aria-hidden />
        Explore
      </Group>
    </Anchor>
  );
  if (error && !data)
    return (
      <Stack py="md" gap="md">
        {back}
        <Alert color="red" role="alert" title="This work could not load">
          <Group justify="space-between" gap="sm">
            <Text size="sm">{problemOf(error)?.form}</Text>
            <Button size="xs" variant="white" color="red" onClick={() => reexecute({ requestPolicy: "network-only" })}>
              Try again
            </Button>
          </Group>
        </Alert>
      </Stack>
    );
  if (!data) return <WorkSkeleton />;
  const work = data.exploreWork;
  if (!work)
    return (
      <Center py={80}>
        <Stack align="center" gap="sm" maw={480}>
          <TriangleAlert size={40} aria-hidden />
          <Title order={1} size="h2" ta="center">
            This work is not in Explore
          </Title>
          <Text c="dimmed" ta="center">
            Its author may have taken it off, or moderation hid it. Other shared works are waiting in the feed.
          </Text>
          <Button component={Link} to="/explore" variant="light">
            Back to Explore
          </Button>
        </Stack>
      </Center>
    );

  return (
    <Stack gap="md" py="md">
      {back}
      <Grid gap="xl">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Player work={work} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="md">
            <Stack gap={4}>
              <Title order={1} size="h2" style={{ overflowWrap: "anywhere" }}>
                {work.title}
              </Title>
              <Text c="dimmed" size="sm">
                by <Text span fw={600} c="gray.3">{work.authorName}</Text> · {when(work.createdAt)}
              </Text>
            </Stack>
            {work.caption && <Text style={{ whiteSpace: "pre-wrap" }}>{work.caption}</Text>}
            <Group gap={6}>
              <Badge variant="light" color="violet">
                {MODEL_LABELS[work.model]}
              </Badge>
              <Badge variant="light" color="gray">
                {KIND_LABELS[work.output.kind]}
              </Badge>
              {work.output.durationMs ? (
                <Badge variant="light" color="gray">
                  {(work.output.durationMs / 1000).toFixed(1)} s
                </Badge>
              ) : null}
            </Group>
            <Group gap={6} c="gray.3">
              <Repeat2 size={16} aria-hidden />
              <Text fw={600}>Recreations: {work.recreateCount}</Text>
            </Group>
            <Stack gap={4}>
              <Text size="sm" fw={600}>
                Prompt
              </Text>
              <Box
                p="sm"
                bg="dark.7"
                style={{ borderRadius: "var(--mantine-radius-md)", whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}
              >
                <Text size="sm" ff="monospace" aria-label="Prompt of the work">
                  {work.promptText}
                </Text>
              </Box>
            </Stack>
            <Group gap="sm">
              <Button size="md" leftSection={<Repeat2 size={18} />} onClick={() => {
                  setOpenings((n) => n + 1);
                  setRecreating(true);
                }} style={{ flex: "1 1 auto" }}>
                Recreate
              </Button>
              <Button size="md" variant="default" leftSection={<Flag size={16} />} onClick={() => {
                  setOpenings((n) => n + 1);
                  setReporting(true);
                }} disabled={reported}>
                Report
              </Button>
            </Group>
            {reported && (
              <Alert color="teal" variant="light" role="status">
                Thanks: your report was sent. Staff will look at this work.
              </Alert>
            )}
          </Stack>
        </Grid.Col>
      </Grid>
      <RecreateDialog key={`r${openings}`} work={work} opened={recreating} onClose={() => setRecreating(false)} />
      {!reported && (
        <ReportDialog
          key={`p${openings}`}
          work={work}
          opened={reporting}
          onClose={() => setReporting(false)}
          onReported={() => {
            setReporting(false);
            setReported(true);
          }}
        />
      )}
    </Stack>
  );
}
