import { Alert, Badge, Box, Button, Center, Group, Loader, Stack, Text, Title } from "@mantine/core";
import { Clapperboard, History as HistoryIcon, Sparkles, Volume2 } from "lucide-react";
import { Link } from "react-router";

import { when } from "../app/labels";
import { useConnectionPages } from "../app/paging";
import { MediaImage } from "../components/Media";
import { graphql } from "../gql";
import type { HistoryPageQuery } from "../gql/graphql";

const PAGE_SIZE = 36;

const HistoryPageDocument = graphql(`
  query HistoryPage($first: Int, $after: String) {
    generationOutputs(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          kind
          width
          height
          durationMs
          hasAudio
          createdAt
          thumbnailUrl
          jobId
        }
      }
    }
  }
`);

type Output = HistoryPageQuery["generationOutputs"]["edges"][number]["node"];

function HistoryTile({ output, eager }: { output: Output; eager: boolean }) {
  const video = output.kind === "VIDEO";
  return (
    <Box
      component={Link}
      to={`/jobs/${encodeURIComponent(output.jobId)}`}
      className="history-tile element-card"
      aria-label={`${video ? "Video" : "Image"} of ${when(output.createdAt)}, ${output.width}×${output.height}: open its job`}
      data-testid="history-tile"
      style={{ "--r": output.width / output.height } as React.CSSProperties}
    >
      <MediaImage src={output.thumbnailUrl} alt="" ratio={`${output.width} / ${output.height}`} eager={eager} />
      <Group pos="absolute" bottom={8} left={8} right={8} gap={4} justify="space-between" wrap="nowrap">
        {video ? (
          <Badge variant="filled" color="dark" size="sm" leftSection={<Clapperboard size={10} aria-hidden />}>
            {output.durationMs ? `${Math.round(output.durationMs / 1000)} s` : "Video"}
          </Badge>
        ) : (
          <span />
        )}
        {video && output.hasAudio && (
          <Badge variant="filled" color="dark" size="sm" aria-label="With sound">
            <Volume2 size={10} aria-hidden />
          </Badge>
        )}
      </Group>
    </Box>
  );
}

function HistorySkeleton() {
  const ratios = [16 / 9, 9 / 16, 1, 16 / 9, 4 / 3, 16 / 9, 1, 9 / 16];
  return (
    <div className="history-grid" aria-busy="true" aria-label="Loading your history">
      {ratios.map((r, i) => (
        <div key={i} className="media-frame history-tile" style={{ aspectRatio: r, "--r": r } as React.CSSProperties} />
      ))}
    </div>
  );
}

export default function History() {
  const pages = useConnectionPages(HistoryPageDocument, {}, (d) => d.generationOutputs, PAGE_SIZE);
  return (
    <Stack gap="lg" py="md">
      <Group justify="space-between" align="flex-end">
        <Stack gap={2}>
          <Title order={1}>History</Title>
          <Text size="sm" c="dimmed">
            Every image and video you have made, newest first. Open one to download it, reuse a
            frame or share it.
          </Text>
        </Stack>
        <Button component={Link} to="/jobs" variant="light">
          Jobs
        </Button>
      </Group>
      {pages.problem && (
        <Alert color="red" role="alert" title="Your history could not load">
          {pages.problem.form} Reload the page to try again.
        </Alert>
      )}
      {pages.loading ? (
        <HistorySkeleton />
      ) : pages.nodes.length === 0 ? (
        !pages.problem && (
          <Center py={80}>
            <Stack align="center" gap="md" maw={480}>
              <HistoryIcon size={48} color="var(--mantine-color-violet-4)" aria-hidden />
              <Title order={2} ta="center">
                Nothing made yet
              </Title>
              <Text c="dimmed" ta="center">
                The images and videos you generate gather here, ready to download, to reuse as
                element images, or to share to Explore.
              </Text>
              <Button component={Link} to="/create" size="md" leftSection={<Sparkles size={16} />}>
                Create your first video
              </Button>
            </Stack>
          </Center>
        )
      ) : (
        <>
          <div className="history-grid">
            {pages.nodes.map((o, i) => (
              <HistoryTile key={o.id} output={o} eager={i < 12} />
            ))}
          </div>
          {pages.hasMore && (
            <Center>
              <Button variant="light" loading={pages.loadingMore} onClick={pages.loadMore}>
                Load more
              </Button>
            </Center>
          )}
          {pages.loadingMore && (
            <Center>
              <Loader size="sm" aria-label="Loading more" />
            </Center>
          )}
        </>
      )}
    </Stack>
  );
}
