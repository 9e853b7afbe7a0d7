import { Alert, Anchor, Badge, Box, Button, Card, Center, Group, Modal, Stack, Text, Title } from "@mantine/core";
import { ArrowLeft, EyeOff, Repeat2, Share2 } from "lucide-react";
import { useState } from "react";
import { Link } from "react-router";
import { useMutation } from "urql";

import { problemOf, type Problem } from "../app/errors";
import { MODEL_LABELS, recreations, STATUS_LABELS } from "../app/explore";
import { when } from "../app/labels";
import { useConnectionPages } from "../app/paging";
import { MediaImage } from "../components/Media";
import { graphql } from "../gql";
import type { ExploreMyWorksQuery } from "../gql/graphql";

const ExploreMyWorksDocument = graphql(`
  query ExploreMyWorks($first: Int!, $after: String) {
    exploreMyWorks(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          title
          caption
          model
          status
          hiddenReason
          recreateCount
          createdAt
          unsharedAt
          output {
            id
            kind
            posterUrl
          }
          public {
            id
          }
        }
      }
    }
  }
`);

const ExploreUnshareDocument = graphql(`
  mutation ExploreUnshare($id: ID!) {
    exploreUnshare(id: $id) {
      ... on ExploreShareResult {
        work {
          id
          unsharedAt
          public {
            id
          }
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

type MyWork = ExploreMyWorksQuery["exploreMyWorks"]["edges"][number]["node"];

function MyWorkRow({ work, onUnshared }: { work: MyWork; onUnshared: (unsharedAt: string) => void }) {
  const [, unshare] = useMutation(ExploreUnshareDocument);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const status = STATUS_LABELS[work.status];
  const unshared = !!work.unsharedAt;

  const confirm = async () => {
    setBusy(true);
    setProblem(null);
    const result = await unshare({ id: work.id });
    const payload = result.data?.exploreUnshare;
    const found = problemOf(result.error, payload);
    setBusy(false);
    if (found) {
      setProblem(found);
      return;
    }
    setConfirming(false);
    if (payload && "work" in payload) onUnshared(payload.work.unsharedAt ?? new Date().toISOString());
  };
  const errorText = problem ? [problem.form, ...Object.values(problem.fields)].filter(Boolean).join(" ") : null;

  const picture = <MediaImage src={work.output.posterUrl} alt="" ratio="16 / 10" />;
  return (
    <Card padding="sm" radius="lg" bg="dark.7" component="article" aria-label={work.title} data-testid="my-work">
      <Group align="flex-start" gap="md" wrap="wrap">
        <Box w={{ base: "100%", xs: 220 }} style={{ flexShrink: 0, opacity: unshared ? 0.5 : 1 }}>
          {work.public ? (
            <Link to={`/explore/${encodeURIComponent(work.public.id)}`} aria-label={`Open ${work.title} in Explore`}>
              {picture}
            </Link>
          ) : (
            picture
          )}
        </Box>
        <Stack gap={6} style={{ flex: "1 1 240px", minWidth: 0 }}>
          <Group gap="xs" justify="space-between" wrap="nowrap" align="flex-start">
            <Title order={2} size="h4" style={{ overflowWrap: "anywhere" }}>
              {work.title}
            </Title>
            {unshared ? (
              <Badge color="gray" variant="light" style={{ flexShrink: 0 }}>
                Unshared
              </Badge>
            ) : (
              <Badge color={status.color} variant="light" style={{ flexShrink: 0 }}>
                {status.label}
              </Badge>
            )}
          </Group>
          <Text size="sm" c="dimmed">
            {MODEL_LABELS[work.model]} · shared {when(work.createdAt)}
            {work.unsharedAt ? ` · unshared ${when(work.unsharedAt)}` : ""}
          </Text>
          <Group gap={4} c="gray.4">
            <Repeat2 size={14} aria-hidden />
            <Text size="sm">{recreations(work.recreateCount)}</Text>
          </Group>
          {work.caption && (
            <Text size="sm" lineClamp={2}>
              {work.caption}
            </Text>
          )}
          {work.status === "HIDDEN" && (
            <Alert color="red" variant="light" p="xs" icon={<EyeOff size={16} aria-hidden />} title="Hidden by moderation">
              {work.hiddenReason || "Staff hid this work."} It is out of the feed and can't be recreated.
            </Alert>
          )}
          {work.status === "PENDING" && !unshared && (
            <Text size="sm" c="yellow.4">
              Staff will look at it before it enters the feed.
            </Text>
          )}
          {!unshared && (
            <Group gap="sm" mt={4}>
              {work.public && (
                <Button component={Link} to={`/explore/${encodeURIComponent(work.public.id)}`} variant="light" size="xs">
                  Open
                </Button>
              )}
              <Button variant="default" size="xs" onClick={() => setConfirming(true)}>
                Unshare
              </Button>
            </Group>
          )}
        </Stack>
      </Group>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title={`Unshare “${work.title}”?`} centered>
        <Stack gap="md">
          <Text size="sm">
            It leaves Explore: nobody can open or recreate it any more. Recreations already made stay with their makers,
            and your job and its output stay yours.
          </Text>
          {errorText && (
            <Alert color="red" role="alert">
              {errorText}
            </Alert>
          )}
          <Group justify="flex-end" gap="sm">
            <Button variant="default" onClick={() => setConfirming(false)} data-autofocus>
              Keep it shared
            </Button>
            <Button color="red" loading={busy} onClick={() => void confirm()}>
              Unshare
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Card>
  );
}

export default function ExploreMine() {
  const pages = useConnectionPages(ExploreMyWorksDocument, {}, (d) => d.exploreMyWorks, 20);
  const [unshared, setUnshared] = useState<Record<string, string>>({});

  return (
    <Stack gap="lg" py="md">
      <Anchor component={Link} to="/explore" size="sm">
        <Group gap={4} component="span">
          <ArrowLeft size={14} aria-hidden />
          Explore
        </Group>
      </Anchor>
      <Stack gap={2}>
        <Title order={1}>My shared works</Title>
        <Text c="dimmed" size="sm">
          What you shared to Explore, where it is in moderation, and how often others recreated it.
        </Text>
      </Stack>
      {pages.problem && (
        <Alert color="red" role="alert" title="Your shared works could not load">
          <Group justify="space-between" gap="sm">
            <Text size="sm">{pages.problem.form}</Text>
            <Button size="xs" variant="white" color="red" onClick={pages.nodes.length ? pages.loadMore : pages.reload}>
              Try again
            </Button>
          </Group>
        </Alert>
      )}
      {pages.loading ? (
        <Stack gap="md" aria-busy="true" aria-label="Loading your shared works">
          {Array.from({ length: 3 }, (_, i) => (
            <div key={i} className="media-frame" style={{ height: 150 }} />
          ))}
        </Stack>
      ) : pages.nodes.length === 0 ? (
        !pages.problem && (
          <Center py={80}>
            <Stack align="center" gap="sm" maw={480}>
              <Share2 size={44} color="var(--mantine-color-violet-4)" aria-hidden />
              <Title order={2} ta="center">
                You haven&apos;t shared anything yet
              </Title>
              <Text c="dimmed" ta="center">
                Open a finished job and share its output to Explore: others can watch it and recreate it, and you see
                here how often they did.
              </Text>
              <Button component={Link} to="/explore" variant="light">
                See what others shared
              </Button>
            </Stack>
          </Center>
        )
      ) : (
        <Stack gap="md">
          {pages.nodes.map((work) => (
            <MyWorkRow
              key={work.id}
              work={unshared[work.id] ? { ...work, unsharedAt: unshared[work.id], public: null } : work}
              onUnshared={(at) => setUnshared((u) => ({ ...u, [work.id]: at }))}
            />
          ))}
          {pages.hasMore && (
            <Center>
              <Button variant="light" loading={pages.loadingMore} onClick={pages.loadMore}>
                Load more
              </Button>
            </Center>
          )}
        </Stack>
      )}
    </Stack>
  );
}
