import { Alert, Badge, Box, Button, Card, Center, Group, Loader, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Clapperboard, History, ImageIcon, Sparkles } from "lucide-react";
import { useCallback, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import { useClient } from "urql";

import { problemOf } from "../app/errors";
import { when } from "../app/labels";
import { isLive, usePolling } from "../app/polling";
import { MediaImage } from "../components/Media";
import { JobProgress, StatusBadge, excerpt, modelLabel, promptTitle } from "../components/JobParts";
import { graphql } from "../gql";
import type { JobsPageQuery } from "../gql/graphql";

const PAGE_SIZE = 20;
/** The service's most per page: a refresh re-reads every loaded row up to this many. */
const MAX_PAGE = 100;

const JobsPageDocument = graphql(`
  query JobsPage($first: Int!, $after: String) {
    generationJobs(first: $first, after: $after) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          kind
          model
          prompt
          status
          progress
          stalled
          duration
          aspectRatio
          createdAt
          errorMessage
          outputs {
            id
            kind
            thumbnailUrl
          }
        }
      }
    }
  }
`);

type Job = JobsPageQuery["generationJobs"]["edges"][number]["node"];

function JobCard({ job, eager }: { job: Job; eager: boolean }) {
  const output = job.outputs[0];
  const video = (output?.kind ?? (job.model?.startsWith("VIDEO") ? "VIDEO" : "IMAGE")) === "VIDEO";
  return (
    <Card
      component={Link}
      to={`/jobs/${encodeURIComponent(job.id)}`}
      padding={0}
      radius="lg"
      bg="dark.7"
      className="element-card"
      aria-label={`${modelLabel(job.model)} job, ${job.status.toLowerCase()}: ${excerpt(job.prompt, 60)}`}
      data-testid="job-card"
    >
      <Box pos="relative">
        {output ? (
          <MediaImage src={output.thumbnailUrl} alt="" ratio="16 / 9" eager={eager} />
        ) : (
          <Center className="job-placeholder" style={{ aspectRatio: "16 / 9" }}>
            <Stack align="center" gap={6} px="md">
              {video ? <Clapperboard size={28} aria-hidden /> : <ImageIcon size={28} aria-hidden />}
              <Text size="xs" c="dimmed" ta="center" lineClamp={2}>
                {job.status === "QUEUED" ? "Waiting for a worker" : job.status === "RUNNING" ? `Rendering… ${job.progress}%` : job.errorMessage || "No output"}
              </Text>
            </Stack>
          </Center>
        )}
        <Group pos="absolute" top={8} left={8} gap={6}>
          <StatusBadge status={job.status} />
          {job.stalled && (
            <Badge color="yellow" variant="filled" size="sm">
              Stalled
            </Badge>
          )}
        </Group>
      </Box>
      <Stack gap={8} p="sm">
        {isLive(job.status) && <JobProgress status={job.status} progress={job.progress} label={`Progress of this job`} size="sm" />}
        <Text size="sm" lineClamp={2} title={job.prompt} mih={40}>
          {excerpt(promptTitle(job.prompt), 140)}
        </Text>
        <Group justify="space-between" gap={6} wrap="nowrap">
          <Text size="xs" fw={600} c="violet.3" truncate>
            {modelLabel(job.model)}
            {job.duration ? ` · ${job.duration} s` : ""}
          </Text>
          <Text size="xs" c="dimmed" style={{ whiteSpace: "nowrap" }}>
            {when(job.createdAt)}
          </Text>
        </Group>
      </Stack>
    </Card>
  );
}

function JobsSkeleton() {
  return (
    <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 4 }} spacing="md" aria-busy="true" aria-label="Loading your jobs">
      {Array.from({ length: 8 }, (_, i) => (
        <div key={i} className="media-frame" style={{ aspectRatio: "16 / 14" }} />
      ))}
    </SimpleGrid>
  );
}

function EmptyJobs() {
  return (
    <Center py={80}>
      <Stack align="center" gap="md" maw={520}>
        <Sparkles size={48} color="var(--mantine-color-violet-4)" aria-hidden />
        <Title order={2} ta="center">
          No jobs yet
        </Title>
        <Text c="dimmed" ta="center">
          Write a prompt, bind your elements and press Generate: every video and image you make
          shows up here while it renders, and stays in your history when it is done.
        </Text>
        <Button component={Link} to="/create" size="md" leftSection={<Sparkles size={16} />}>
          Create a video
        </Button>
      </Stack>
    </Center>
  );
}

export default function Jobs() {
  const client = useClient();
  const [jobs, setJobs] = useState<Job[]>([]);
  const [total, setTotal] = useState<number | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const jobsRef = useRef(jobs);
  jobsRef.current = jobs;

  const read = useCallback(
    async (first: number, after: string | null) => {
      const r = await client.query(JobsPageDocument, { first, after }, { requestPolicy: "network-only" }).toPromise();
      const found = problemOf(r.error);
      if (found || !r.data) throw new Error(found?.form ?? "Your jobs could not be read.");
      return r.data.generationJobs;
    },
    [client],
  );

  useEffect(() => {
    let gone = false;
    read(PAGE_SIZE, null)
      .then((page) => {
        if (gone) return;
        setJobs(page.edges.map((e) => e.node));
        setTotal(page.totalCount ?? null);
        setCursor(page.pageInfo.endCursor ?? null);
        setHasMore(page.pageInfo.hasNextPage);
        setProblem(null);
      })
      .catch((e: Error) => !gone && setProblem(e.message))
      .finally(() => !gone && setLoading(false));
    return () => {
      gone = true;
    };
  }, [read]);

  const loadMore = async () => {
    setLoadingMore(true);
    try {
      const page = await read(PAGE_SIZE, cursor);
      setJobs((old) => [...old, ...page.edges.map((e) => e.node).filter((n) => !old.some((o) => o.id === n.id))]);
      setCursor(page.pageInfo.endCursor ?? null);
      setHasMore(page.pageInfo.hasNextPage);
      setProblem(null);
    } catch (e) {
      setProblem((e as Error).message);
    } finally {
      setLoadingMore(false);
    }
  };

  // While a job may still move, the rows shown are read again (one request, newest first),
  // 1 s apart at first and up to 10 s apart while nothing changes.
  const live = jobs.some((j) => isLive(j.status));
  usePolling(live, async () => {
    const shown = jobsRef.current;
    const page = await read(Math.min(MAX_PAGE, Math.max(PAGE_SIZE, shown.length)), null);
    const fresh = page.edges.map((e) => e.node);
    const before = JSON.stringify(shown.slice(0, fresh.length).map((j) => [j.id, j.status, j.progress]));
    const after = JSON.stringify(fresh.map((j) => [j.id, j.status, j.progress]));
    setJobs((old) => [...fresh, ...old.filter((o) => !fresh.some((n) => n.id === o.id))]);
    setTotal(page.totalCount ?? null);
    if (shown.length <= fresh.length) {
      setCursor(page.pageInfo.endCursor ?? null);
      setHasMore(page.pageInfo.hasNextPage);
    }
    return before !== after;
  });

  const running = jobs.filter((j) => isLive(j.status)).length;
  return (
    <Stack gap="lg" py="md">
      <Group justify="space-between" align="flex-end" gap="md">
        <Stack gap={2}>
          <Title order={1}>Jobs</Title>
          <Text size="sm" c="dimmed" aria-live="polite">
            {loading
              ? "Reading your jobs…"
              : `${total ?? jobs.length} job${(total ?? jobs.length) === 1 ? "" : "s"}${running ? ` · ${running} in progress, updating live` : ""}`}
          </Text>
        </Stack>
        <Group gap="sm">
          <Button component={Link} to="/history" variant="light" leftSection={<History size={16} />}>
            History
          </Button>
          <Button component={Link} to="/create" leftSection={<Sparkles size={16} />}>
            New generation
          </Button>
        </Group>
      </Group>
      {problem && (
        <Alert color="red" role="alert" title="Your jobs could not be read">
          {problem} Reload the page to try again.
        </Alert>
      )}
      {loading ? (
        <JobsSkeleton />
      ) : jobs.length === 0 ? (
        !problem && <EmptyJobs />
      ) : (
        <>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 4 }} spacing="md">
            {jobs.map((job, i) => (
              <JobCard key={job.id} job={job} eager={i < 8} />
            ))}
          </SimpleGrid>
          {hasMore && (
            <Center>
              <Button variant="light" loading={loadingMore} onClick={loadMore}>
                Load more
              </Button>
            </Center>
          )}
          {loadingMore && <Loader aria-label="Loading more" size="sm" mx="auto" />}
        </>
      )}
    </Stack>
  );
}
