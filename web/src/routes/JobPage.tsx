import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Center,
  Grid,
  Group,
  Modal,
  Paper,
  Skeleton,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { ArrowLeft, Ban, Camera, Download, ImagePlus, Share2, TriangleAlert } from "lucide-react";
import { useCallback, useEffect, useRef, useState } from "react";
import { Link, useParams } from "react-router";
import { useClient, useMutation } from "urql";

import { problemOf } from "../app/errors";
import { TYPE_LABELS, when } from "../app/labels";
import { isLive, usePolling } from "../app/polling";
import { useSession } from "../app/session";
import { JobProgress, StatusBadge, cssRatio, downloadName, excerpt, modelLabel, promptTitle } from "../components/JobParts";
import { MediaImage } from "../components/Media";
import { ShareDialog, SharedNotice, type Shared } from "../components/ShareDialog";
import { UseFrameDialog } from "../components/UseFrameDialog";
import { ConsistencyPanel } from "../components/ConsistencyPanel";
import { graphql } from "../gql";
import type { ElementType, JobDetailQuery } from "../gql/graphql";

const JobDetailDocument = graphql(`
  query JobDetail($id: ID!) {
    generationJob(id: $id) {
      ...JobDetailFields
    }
  }
`);

graphql(`
  fragment JobDetailFields on GenerationJob {
    id
    kind
    model
    mode
    prompt
    duration
    aspectRatio
    status
    progress
    stalled
    errorCode
    errorMessage
    creditsCharged
    refunded
    createdAt
    startedAt
    finishedAt
    outputs {
      id
      kind
      width
      height
      durationMs
      hasAudio
      url
      posterUrl
      thumbnailUrl
    }
    shots {
      index
      duration
      text
      cameraMove
      cameraNote
    }
    elements {
      position
      name
      type
      version
      voiceName
    }
    recreatedFrom {
      id
      title
    }
    consistencyPending
    consistency {
      ...ConsistencyFields
    }
  }
`);

const CancelDocument = graphql(`
  mutation GenerationCancel($id: ID!) {
    generationCancel(id: $id) {
      ... on GenerationJobResult {
        job {
          ...JobDetailFields
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

type Job = NonNullable<JobDetailQuery["generationJob"]>;
type Output = Job["outputs"][number];

// Media URLs are signed afresh on every read: a poll (while the job's consistency is being
// measured) must not swap the source of a video being watched, which would reload it from
// 0 s. An output keeps the URLs it was first shown with.
function keepMediaUrls(old: Job | null, fresh: Job): Job {
  if (!old) return fresh;
  const shown = new Map(old.outputs.map((o) => [o.id, o]));
  return {
    ...fresh,
    outputs: fresh.outputs.map((o) => {
      const before = shown.get(o.id);
      return before ? { ...o, url: before.url, posterUrl: before.posterUrl, thumbnailUrl: before.thumbnailUrl } : o;
    }),
  };
}

/** How long the page keeps polling for a succeeded job's consistency report. */
export const MEASURE_POLL_LIMIT_MS = 10 * 60_000;

/** Succeeded, its consistency report not in yet. */
const measuring = (job: Job | null) => !!job && job.status === "SUCCEEDED" && job.consistencyPending && !job.consistency;

/** A fragment-masked job, unmasked: the client preset masks only `useFragment` users; the
 * documents here spread the same fields, so the shape is the query's. */
const asJob = (x: unknown) => x as Job;

function useJob(id: string) {
  const client = useClient();
  const [job, setJob] = useState<Job | null>(null);
  const [missing, setMissing] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);

  const read = useCallback(async () => {
    const r = await client.query(JobDetailDocument, { id }, { requestPolicy: "network-only" }).toPromise();
    const found = problemOf(r.error);
    if (found) {
      setProblem(found.form ?? "The job could not be read.");
      return null;
    }
    setProblem(null);
    const fresh = r.data?.generationJob ? asJob(r.data.generationJob) : null;
    if (!fresh) setMissing(true);
    return fresh;
  }, [client, id]);

  useEffect(() => {
    let gone = false;
    setLoading(true);
    read().then((j) => {
      if (gone) return;
      setJob(j);
      setLoading(false);
    });
    return () => {
      gone = true;
    };
  }, [read]);

  // After it succeeds, the page keeps reading it until its consistency report is in, for at
  // most MEASURE_POLL_LIMIT_MS.
  const waitingForReport = measuring(job);
  const [gaveUp, setGaveUp] = useState(false);
  useEffect(() => {
    if (!waitingForReport) return;
    const timer = setTimeout(() => setGaveUp(true), MEASURE_POLL_LIMIT_MS);
    return () => clearTimeout(timer);
  }, [waitingForReport]);

  const jobRef = useRef(job);
  jobRef.current = job;
  usePolling(!!job && (isLive(job.status) || (waitingForReport && !gaveUp)), async () => {
    const fresh = await read();
    if (!fresh) return false;
    const old = jobRef.current;
    setJob(keepMediaUrls(old, fresh));
    return !old || old.status !== fresh.status || old.progress !== fresh.progress || !old.consistency !== !fresh.consistency;
  });

  return { job, setJob, missing, problem, loading, reload: read, gaveUp };
}

function OutputView({ output, job, videoRef }: { output: Output; job: Job; videoRef: React.RefObject<HTMLVideoElement | null> }) {
  const ratio = `${output.width} / ${output.height}`;
  if (output.kind === "VIDEO")
    return (
      <video
        ref={videoRef}
        className="job-video"
        src={output.url}
        poster={output.posterUrl}
        controls
        playsInline
        preload="metadata"
        style={{ aspectRatio: ratio }}
        aria-label={`Video: ${excerpt(job.prompt, 80)}`}
      />
    );
  return (
    <a href={output.url} target="_blank" rel="noreferrer" aria-label="Open the full-size image">
      <MediaImage src={output.url} alt={excerpt(job.prompt, 120)} ratio={ratio} contain eager />
    </a>
  );
}

const STAGE: Record<Job["status"], string> = {
  QUEUED: "Queued",
  RUNNING: "Rendering",
  SUCCEEDED: "Done",
  FAILED: "Failed",
  CANCELED: "Canceled",
};

function Waiting({ job }: { job: Job }) {
  // A frame of the coming video's shape while it renders; a short band once nothing will come.
  const frame = isLive(job.status) ? { aspectRatio: cssRatio(job.aspectRatio), maxHeight: "72vh" } : { height: 180 };
  return (
    <Center className="job-placeholder" style={frame}>
      <Stack align="center" gap="xs" p="md">
        {job.status === "FAILED" ? (
          <TriangleAlert size={36} color="var(--mantine-color-red-5)" aria-hidden />
        ) : job.status === "CANCELED" ? (
          <Ban size={36} color="var(--mantine-color-orange-5)" aria-hidden />
        ) : (
          <Camera size={36} aria-hidden />
        )}
        <Text c="dimmed" ta="center">
          {job.status === "QUEUED"
            ? "Waiting for a free worker…"
            : job.status === "RUNNING"
              ? `Rendering… ${job.progress}%`
              : job.status === "FAILED"
                ? "Nothing was made."
                : job.status === "CANCELED"
                  ? "Canceled before it finished."
                  : "No output."}
        </Text>
      </Stack>
    </Center>
  );
}

function JobSkeleton() {
  return (
    <Stack gap="lg" py="md" aria-busy="true" aria-label="Loading the job">
      <Skeleton h={36} w="40%" />
      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <div className="media-frame" style={{ aspectRatio: "16 / 9" }} />
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack>
            <Skeleton h={20} />
            <Skeleton h={120} />
            <Skeleton h={80} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

export default function JobPage() {
  const { id = "" } = useParams();
  const { refresh: refreshViewer } = useSession();
  const { job, setJob, missing, problem, loading, reload, gaveUp } = useJob(id);
  const [, cancel] = useMutation(CancelDocument);
  const [confirming, setConfirming] = useState(false);
  const [canceling, setCanceling] = useState(false);
  const [cancelNote, setCancelNote] = useState<{ ok: boolean; text: string } | null>(null);
  const [frameOpen, setFrameOpen] = useState(false);
  const [frameTime, setFrameTime] = useState<number | null>(null);
  const [shareOpen, setShareOpen] = useState(false);
  const [shared, setShared] = useState<Shared | null>(null);
  const [selected, setSelected] = useState(0);
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const wasLive = useRef(false);

  // Credits move when a job ends (a refund): the header's balance is read again then.
  useEffect(() => {
    if (!job) return;
    if (wasLive.current && !isLive(job.status)) refreshViewer();
    wasLive.current = isLive(job.status);
  }, [job, refreshViewer]);

  if (loading) return <JobSkeleton />;
  if (!job)
    return (
      <Center py={80}>
        <Stack align="center" gap="sm">
          <Title order={1} size="h2">
            {missing ? "No such job" : "The job could not load"}
          </Title>
          <Text c="dimmed">{missing ? "It may belong to another account, or the link is wrong." : problem}</Text>
          <Button component={Link} to="/jobs" variant="light" leftSection={<ArrowLeft size={16} />}>
            All jobs
          </Button>
        </Stack>
      </Center>
    );

  const doCancel = async () => {
    setConfirming(false);
    setCanceling(true);
    setCancelNote(null);
    const r = await cancel({ id: job.id });
    const payload = r.data?.generationCancel;
    const found = problemOf(r.error, payload);
    if (payload && "job" in payload && !found) {
      const fresh = asJob(payload.job);
      setJob(fresh);
      setCancelNote(
        fresh.status === "CANCELED"
          ? { ok: true, text: fresh.refunded ? `Canceled. ${fresh.creditsCharged} credits were given back.` : "Canceled." }
          : { ok: true, text: "Stopping: the job ends at its next step and its credits come back." },
      );
      if (fresh.status === "CANCELED") refreshViewer();
    } else {
      // Most often it ended just as the button was pressed: show how it ended, and why.
      const fresh = await reload();
      if (fresh) setJob(fresh);
      setCancelNote({ ok: false, text: found?.form ?? Object.values(found?.fields ?? {}).join(" ") ?? "It could not be canceled." });
    }
    setCanceling(false);
  };

  const output = job.outputs[Math.min(selected, job.outputs.length - 1)];
  const live = isLive(job.status);
  const video = output?.kind === "VIDEO";
  return (
    <Stack gap="lg" py="md">
      <Group justify="space-between" align="flex-start" gap="md">
        <Stack gap={6} style={{ minWidth: 0, flex: "1 1 320px" }}>
          <Anchor component={Link} to="/jobs" size="sm" c="dimmed">
            <Group gap={4}>
              <ArrowLeft size={14} aria-hidden /> All jobs
            </Group>
          </Anchor>
          <Title order={1} size="h2" lineClamp={2} style={{ overflowWrap: "anywhere" }}>
            {excerpt(promptTitle(job.prompt), 90) || "Generation"}
          </Title>
          <Group gap="xs">
            <StatusBadge status={job.status} size="md" />
            <Badge variant="outline" color="violet">
              {modelLabel(job.model)}
            </Badge>
            {job.duration ? <Badge variant="default">{job.duration} s</Badge> : null}
            {job.aspectRatio && <Badge variant="default">{job.aspectRatio}</Badge>}
            {job.mode && job.mode !== "-" && <Badge variant="default">{job.mode}</Badge>}
            {job.stalled && <Badge color="yellow">Stalled: a worker will take it again</Badge>}
          </Group>
        </Stack>
        <Group gap="sm" className="job-actions">
          {live && (
            <Button color="red" variant="light" leftSection={<Ban size={16} />} onClick={() => setConfirming(true)} loading={canceling}>
              Cancel job
            </Button>
          )}
          {output && job.status === "SUCCEEDED" && (
            <>
              <Button
                component="a"
                href={output.url}
                download={downloadName(job.prompt, output.kind, output.url, selected)}
                variant="default"
                leftSection={<Download size={16} />}
              >
                Download
              </Button>
              <Button
                variant="light"
                leftSection={<ImagePlus size={16} />}
                onClick={() => {
                  setFrameTime(videoRef.current?.currentTime ?? 0);
                  setFrameOpen(true);
                }}
              >
                Use frame as element image
              </Button>
              <Button leftSection={<Share2 size={16} />} onClick={() => setShareOpen(true)} disabled={!!shared}>
                Share to Explore
              </Button>
            </>
          )}
        </Group>
      </Group>

      {cancelNote && (
        <Alert color={cancelNote.ok ? "teal" : "orange"} role={cancelNote.ok ? "status" : "alert"} withCloseButton onClose={() => setCancelNote(null)}>
          {cancelNote.text}
        </Alert>
      )}
      {problem && (
        <Alert color="red" role="alert" title="Can't reach the service">
          {problem} The page keeps trying.
        </Alert>
      )}
      {shared && <SharedNotice shared={shared} />}

      <Grid gap="lg">
        <Grid.Col span={{ base: 12, md: 8 }}>
          <Stack gap="sm">
            <Paper p="md" radius="md" bg="dark.7">
              <Stack gap={6}>
                <Group justify="space-between" gap="xs">
                  <Text fw={600}>{STAGE[job.status]}</Text>
                  <Text size="sm" c="dimmed">
                    {live ? "Updates by itself" : job.finishedAt ? `Ended ${when(job.finishedAt)}` : ""}
                  </Text>
                </Group>
                <JobProgress status={job.status} progress={job.progress} />
                {job.status === "CANCELED" && job.refunded && job.creditsCharged > 0 && (
                  <Text size="sm" c="dimmed">
                    Refunded {job.creditsCharged} credits
                  </Text>
                )}
              </Stack>
            </Paper>
            {job.status === "FAILED" && (
              <Alert color="red" role="alert" title="This job failed" icon={<TriangleAlert size={18} />}>
                <Stack gap={4}>
                  <Text size="sm">{job.errorMessage || "The renderer gave no reason."}</Text>
                  {job.refunded ? (
                    <Text size="sm" fw={600}>
                      Refunded {job.creditsCharged} credits
                    </Text>
                  ) : job.creditsCharged > 0 ? (
                    <Text size="sm">The refund of {job.creditsCharged} credits is on its way.</Text>
                  ) : null}
                  <Anchor component={Link} to="/create" size="sm" c="red.1" underline="always">
                    Try again in the prompt studio
                  </Anchor>
                </Stack>
              </Alert>
            )}
            {output ? <OutputView output={output} job={job} videoRef={videoRef} /> : <Waiting job={job} />}
            {job.outputs.length > 1 && (
              <Group gap="xs">
                {job.outputs.map((o, i) => (
                  <Button key={o.id} variant={i === selected ? "filled" : "default"} size="xs" onClick={() => setSelected(i)} aria-pressed={i === selected}>
                    Output {i + 1}
                  </Button>
                ))}
              </Group>
            )}
            {output && (
              <Text size="xs" c="dimmed">
                {output.width}×{output.height}
                {output.durationMs ? ` · ${(output.durationMs / 1000).toFixed(1)} s` : ""}
                {output.kind === "VIDEO" ? (output.hasAudio ? " · with sound" : " · no sound") : ""}
              </Text>
            )}
            {job.status === "SUCCEEDED" && <ConsistencyPanel consistency={job.consistency ?? null} pending={job.consistencyPending} gaveUp={gaveUp} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 4 }}>
          <Stack gap="md">
            <Card radius="md" bg="dark.7" padding="md">
              <Stack gap="xs">
                <Text fw={600} size="sm">
                  Prompt
                </Text>
                <Text size="sm" style={{ whiteSpace: "pre-wrap", overflowWrap: "anywhere" }}>
                  {job.prompt}
                </Text>
                {job.recreatedFrom && (
                  <Text size="xs" c="dimmed">
                    Recreated from{" "}
                    <Anchor component={Link} to={`/explore/${encodeURIComponent(job.recreatedFrom.id)}`} size="xs">
                      {job.recreatedFrom.title}
                    </Anchor>
                  </Text>
                )}
              </Stack>
            </Card>
            {job.shots.length > 0 && (
              <Card radius="md" bg="dark.7" padding="md">
                <Text fw={600} size="sm" mb="xs">
                  Shots
                </Text>
                <Stack gap="sm" component="ol" style={{ listStyle: "none", padding: 0, margin: 0 }} aria-label="Shots">
                  {job.shots.map((s) => (
                    <li key={s.index}>
                      <Group gap={6} mb={2}>
                        <Badge size="sm" variant="light" color="violet">
                          Shot {s.index}
                        </Badge>
                        {s.duration ? <Text size="xs" c="dimmed">{s.duration} s</Text> : null}
                        {s.cameraMove && (
                          <Badge size="sm" variant="default" title={s.cameraNote ?? undefined}>
                            {s.cameraMove.replace(/_/g, " ")}
                          </Badge>
                        )}
                      </Group>
                      <Text size="sm" c="dimmed" style={{ overflowWrap: "anywhere" }}>
                        {s.text}
                      </Text>
                    </li>
                  ))}
                </Stack>
              </Card>
            )}
            {job.elements.length > 0 && (
              <Card radius="md" bg="dark.7" padding="md">
                <Text fw={600} size="sm" mb="xs">
                  Elements
                </Text>
                <Stack gap={4}>
                  {job.elements.map((e) => (
                    <Group key={e.position} gap={6} wrap="nowrap">
                      <Text size="sm" fw={500} truncate>
                        {e.name}
                      </Text>
                      {e.type && <Badge size="xs" variant="default">{TYPE_LABELS[e.type.toUpperCase() as ElementType] ?? e.type}</Badge>}
                      {e.version ? <Text size="xs" c="dimmed">v{e.version}</Text> : null}
                      {e.voiceName ? <Text size="xs" c="dimmed">· voice {e.voiceName}</Text> : null}
                    </Group>
                  ))}
                </Stack>
              </Card>
            )}
            <Card radius="md" bg="dark.7" padding="md">
              <Stack gap={4}>
                <Detail label="Submitted" value={when(job.createdAt)} />
                {job.startedAt && <Detail label="Started" value={when(job.startedAt)} />}
                {job.finishedAt && <Detail label="Ended" value={when(job.finishedAt)} />}
                <Detail label="Cost" value={`${job.creditsCharged} credits${job.refunded ? " (refunded)" : ""}`} />
              </Stack>
            </Card>
          </Stack>
        </Grid.Col>
      </Grid>

      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Cancel this job?" size="sm">
        <Stack gap="md">
          <Text size="sm">
            {job.status === "QUEUED"
              ? "It has not started: it ends now and its credits come back."
              : "It stops at its next step; whatever it made so far is dropped and its credits come back."}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)} data-autofocus>
              Keep it running
            </Button>
            <Button color="red" onClick={doCancel}>
              Yes, cancel it
            </Button>
          </Group>
        </Stack>
      </Modal>
      {output && (
        <UseFrameDialog
          opened={frameOpen}
          onClose={() => setFrameOpen(false)}
          source={{ outputId: output.id, kind: output.kind, duration: output.durationMs ? output.durationMs / 1000 : null }}
          currentTime={video ? frameTime : null}
        />
      )}
      {output && (
        <ShareDialog
          opened={shareOpen}
          onClose={() => setShareOpen(false)}
          jobId={job.id}
          outputId={output.id}
          suggestedTitle={excerpt(promptTitle(job.prompt), 60).replace(/…$/, "")}
          onShared={setShared}
        />
      )}
    </Stack>
  );
}

function Detail({ label, value }: { label: string; value: string }) {
  return (
    <Group justify="space-between" gap="xs" wrap="nowrap">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="xs" ta="right">
        {value}
      </Text>
    </Group>
  );
}
