import {
  Alert,
  Badge,
  Box,
  Button,
  Card,
  Center,
  Group,
  Input,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { Compass, Play, Repeat2, SearchX, Share2, Sparkles } from "lucide-react";
import { Link, useSearchParams } from "react-router";

import { KIND_LABELS, MODEL_LABELS, MODELS, ORDER_LABELS, recreations } from "../app/explore";
import { useConnectionPages } from "../app/paging";
import { MediaImage } from "../components/Media";
import { graphql } from "../gql";
import type { ExploreFeedQuery, ExploreOrder, GenerationModel, OutputKind } from "../gql/graphql";

export const PAGE_SIZE = 24;

export const ExploreFeedDocument = graphql(`
  query ExploreFeed(
    $order: ExploreOrder!
    $model: GenerationModel
    $outputKind: OutputKind
    $first: Int!
    $after: String
  ) {
    exploreFeed(order: $order, model: $model, outputKind: $outputKind, first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          title
          authorName
          model
          outputKind
          recreateCount
          output {
            kind
            durationMs
            posterUrl
          }
        }
      }
    }
  }
`);

type FeedWork = ExploreFeedQuery["exploreFeed"]["edges"][number]["node"];

const ORDERS = Object.keys(ORDER_LABELS) as ExploreOrder[];

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

export function WorkCard({ work, eager }: { work: FeedWork; eager: boolean }) {
  return (
    <Card
      component={Link}
      to={`/explore/${encodeURIComponent(work.id)}`}
      padding={0}
      radius="lg"
      bg="dark.7"
      className="element-card"
      aria-label={`${work.title}, by ${work.authorName}, ${recreations(work.recreateCount)}`}
      data-testid="explore-card"
    >
      <Box pos="relative">
        <MediaImage src={work.output.posterUrl} alt="" ratio="16 / 10" eager={eager} />
        <Group pos="absolute" top={8} left={8} gap={6}>
          <Badge variant="filled" color="dark" radius="sm" size="sm">
            {MODEL_LABELS[work.model]}
          </Badge>
        </Group>
        {work.output.kind === "VIDEO" && (
          <Badge
            pos="absolute"
            bottom={8}
            right={8}
            variant="filled"
            color="dark"
            radius="sm"
            size="sm"
            leftSection={<Play size={10} aria-hidden />}
          >
            {work.output.durationMs ? duration(work.output.durationMs) : "Video"}
          </Badge>
        )}
      </Box>
      <Stack gap={4} p="sm">
        <Text fw={600} truncate="end" title={work.title}>
          {work.title}
        </Text>
        <Group justify="space-between" gap={6} wrap="nowrap">
          <Text size="sm" c="dimmed" truncate="end">
            {work.authorName}
          </Text>
          <Group gap={4} wrap="nowrap" c="dimmed">
            <Repeat2 size={14} aria-hidden />
            <Text size="sm">{work.recreateCount}</Text>
          </Group>
        </Group>
      </Stack>
    </Card>
  );
}

function FeedSkeleton() {
  return (
    <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 4 }} spacing="lg" aria-busy="true" aria-label="Loading works">
      {Array.from({ length: 8 }, (_, i) => (
        <Stack key={i} gap={8}>
          <div className="media-frame" style={{ aspectRatio: "16 / 10" }} />
          <div className="media-frame" style={{ height: 14, width: "60%" }} />
          <div className="media-frame" style={{ height: 12, width: "40%" }} />
        </Stack>
      ))}
    </SimpleGrid>
  );
}

function EmptyFeed({ filtered, onClear }: { filtered: boolean; onClear: () => void }) {
  return (
    <Center py={80}>
      <Stack align="center" gap="sm" maw={520}>
        {filtered ? (
          <SearchX size={40} aria-hidden />
        ) : (
          <Compass size={48} color="var(--mantine-color-violet-4)" aria-hidden />
        )}
        <Title order={2} ta="center">
          {filtered ? "No works match" : "Nothing shared yet"}
        </Title>
        <Text c="dimmed" ta="center">
          {filtered
            ? "No shared work was made with this model or kind. Try another filter."
            : "Shared works appear here for everyone to watch and recreate. Finish a job and share it to be the first."}
        </Text>
        {filtered ? (
          <Button variant="light" onClick={onClear}>
            Clear filters
          </Button>
        ) : (
          <Button component={Link} to="/create" variant="light" leftSection={<Sparkles size={16} />}>
            Create something
          </Button>
        )}
      </Stack>
    </Center>
  );
}

export default function Explore() {
  const [params, setParams] = useSearchParams();
  const orderParam = params.get("order") as ExploreOrder | null;
  const order: ExploreOrder = orderParam && ORDERS.includes(orderParam) ? orderParam : "NEWEST";
  const modelParam = params.get("model") as GenerationModel | null;
  const model = modelParam && MODELS.includes(modelParam) ? modelParam : null;
  const kindParam = params.get("kind") as OutputKind | null;
  const outputKind = kindParam === "IMAGE" || kindParam === "VIDEO" ? kindParam : null;

  const pages = useConnectionPages(
    ExploreFeedDocument,
    { order, model, outputKind },
    (d) => d.exploreFeed,
    PAGE_SIZE,
  );

  const setParam = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
  };
  const filtered = !!model || !!outputKind;

  return (
    <Stack gap="lg" py="md">
      <Group justify="space-between" align="flex-end" gap="md">
        <Stack gap={2}>
          <Title order={1}>Explore</Title>
          <Text c="dimmed" size="sm">
            What creators shared: watch it, then recreate it with your own words.
          </Text>
        </Stack>
        <Button component={Link} to="/explore/mine" variant="light" leftSection={<Share2 size={16} />}>
          My shared works
        </Button>
      </Group>
      <Group gap="sm" align="flex-end" wrap="wrap">
        <Stack gap={0} style={{ flex: "1 1 260px", maxWidth: 340 }}>
          <Input.Label id="explore-order-label">Order</Input.Label>
          <SegmentedControl
            aria-labelledby="explore-order-label"
            data={ORDERS.map((o) => ({ value: o, label: ORDER_LABELS[o] }))}
            value={order}
            onChange={(v) => setParam("order", v === "NEWEST" ? null : v)}
            fullWidth
          />
        </Stack>
        <Select
          label="Model"
          data={[{ value: "", label: "All models" }, ...MODELS.map((m) => ({ value: m, label: MODEL_LABELS[m] }))]}
          value={model ?? ""}
          onChange={(v) => setParam("model", v || null)}
          allowDeselect={false}
          style={{ flex: "1 1 160px", maxWidth: 220 }}
        />
        <Select
          label="Kind"
          data={[
            { value: "", label: "All kinds" },
            { value: "IMAGE", label: KIND_LABELS.IMAGE },
            { value: "VIDEO", label: KIND_LABELS.VIDEO },
          ]}
          value={outputKind ?? ""}
          onChange={(v) => setParam("kind", v || null)}
          allowDeselect={false}
          style={{ flex: "1 1 160px", maxWidth: 220 }}
        />
      </Group>
      {pages.problem && pages.nodes.length === 0 && (
        <Alert color="red" role="alert" title="The feed could not load">
          <Group justify="space-between" gap="sm">
            <Text size="sm">{pages.problem.form}</Text>
            <Button size="xs" variant="white" color="red" onClick={pages.reload}>
              Try again
            </Button>
          </Group>
        </Alert>
      )}
      {pages.loading ? (
        <FeedSkeleton />
      ) : pages.nodes.length === 0 ? (
        !pages.problem && <EmptyFeed filtered={filtered} onClear={() => setParams(order === "NEWEST" ? {} : { order }, { replace: true })} />
      ) : (
        <>
          <SimpleGrid cols={{ base: 1, xs: 2, md: 3, lg: 4 }} spacing="lg" aria-label="Shared works" component="section">
            {pages.nodes.map((work, i) => (
              <WorkCard key={work.id} work={work} eager={i < 8} />
            ))}
          </SimpleGrid>
          {pages.hasMore && (
            <Stack align="center" gap="xs">
              {pages.problem && (
                <Text c="red.4" size="sm" role="alert">
                  {pages.problem.form} Press “Load more” to try again.
                </Text>
              )}
              <Button variant="light" loading={pages.loadingMore} onClick={pages.loadMore}>
                Load more
              </Button>
            </Stack>
          )}
        </>
      )}
    </Stack>
  );
}
