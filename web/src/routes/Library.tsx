import {
  Alert,
  Badge,
  Box,
  Button,
  Card,
  Center,
  Checkbox,
  Group,
  Loader,
  RingProgress,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
  Tooltip,
} from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { Ban, CheckSquare, Clapperboard, Download, Eye, ImagePlus, Lock, Plus, Search, TriangleAlert, Upload, Users } from "lucide-react";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { useQuery } from "urql";

import { TYPE_LABELS, TYPES } from "../app/labels";
import {
  createBlockedReason,
  libraryArgument,
  librarySearch,
  PERSONAL,
  qualifierOf,
  quotaOf,
  useLibraries,
  type LibraryInfo,
} from "../app/libraries";
import { useSession } from "../app/session";
import { LibrarySwitcher } from "../components/LibrarySwitcher";
import { MediaImage } from "../components/Media";
import { VoiceBadge } from "../components/PlayButton";
import { graphql } from "../gql";
import type { ElementOrder, ElementType, LibraryPageQuery } from "../gql/graphql";
import { ExportDialog, ImportDialog } from "./LibraryBundles";

const PAGE_SIZE = 24;

const LibraryPageDocument = graphql(`
  query LibraryPage(
    $type: ElementType
    $search: String
    $order: ElementOrder!
    $first: Int!
    $after: String
    $library: String
  ) {
    elements(type: $type, search: $search, order: $order, first: $first, after: $after, library: $library) {
      totalCount
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          type
          status
          source
          progress
          failureMessage
          blockedReason
          version
          libraryQualifier
          viewerCan {
            edit
            delete
            downloadVoice
            use
          }
          voice {
            id
            name
            audioUrl
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

type ElementNode = LibraryPageQuery["elements"]["edges"][number]["node"];

const SORTS: { value: ElementOrder; label: string }[] = [
  { value: "UPDATED_DESC", label: "Recently changed" },
  { value: "NAME_ASC", label: "Name A–Z" },
  { value: "NAME_DESC", label: "Name Z–A" },
  { value: "UPDATED_ASC", label: "Oldest change first" },
];

function StatusOverlay({ element }: { element: ElementNode }) {
  if (element.status === "ACTIVE") return null;
  const common = {
    pos: "absolute" as const,
    inset: 0,
    style: { background: "rgba(8,9,11,0.72)", backdropFilter: "blur(2px)" },
  };
  if (element.status === "PROCESSING")
    return (
      <Center {...common}>
        <Stack align="center" gap={4}>
          <RingProgress
            size={72}
            thickness={6}
            sections={[{ value: element.progress, color: "violet" }]}
            label={<Text ta="center" size="xs">{element.progress}%</Text>}
            aria-label={`Processing, ${element.progress}%`}
          />
          <Text size="sm">Processing…</Text>
        </Stack>
      </Center>
    );
  const failed = element.status === "FAILED";
  return (
    <Center {...common} p="sm">
      <Stack align="center" gap={4}>
        {failed ? <TriangleAlert color="var(--mantine-color-red-5)" aria-hidden /> : <Ban color="var(--mantine-color-orange-5)" aria-hidden />}
        <Text size="sm" fw={600}>
          {failed ? "Failed" : "Blocked"}
        </Text>
        <Text size="xs" ta="center" c="dimmed" lineClamp={3}>
          {failed ? element.failureMessage : element.blockedReason}
        </Text>
      </Stack>
    </Center>
  );
}

interface Selection {
  /** Whether the cards show their checkboxes. */
  active: boolean;
  ids: string[];
  toggle: (id: string) => void;
}

/** A card, and in selection mode a checkbox over its corner (beside the card's link, not in
 * it). Only usable elements can be exported, so the others can't be selected. */
function SelectableCard({ element, eager, selection }: { element: ElementNode; eager: boolean; selection: Selection }) {
  if (!selection.active) return <ElementCard element={element} eager={eager} />;
  const checked = selection.ids.includes(element.id);
  return (
    <Box pos="relative" className="element-card-selectable" data-selected={checked || undefined}>
      <ElementCard element={element} eager={eager} />
      <Checkbox
        pos="absolute"
        top={8}
        right={8}
        size="md"
        radius="sm"
        checked={checked}
        disabled={element.status !== "ACTIVE"}
        onChange={() => selection.toggle(element.id)}
        aria-label={`Select ${element.name}`}
        title={element.status !== "ACTIVE" ? "Only ready elements can be exported" : undefined}
      />
    </Box>
  );
}

function ElementCard({ element, eager }: { element: ElementNode; eager: boolean }) {
  const main = element.images.find((i) => i.role === "MAIN") ?? element.images[0];
  return (
    <Card
      component={Link}
      to={`/elements/${encodeURIComponent(element.id)}`}
      padding={0}
      radius="lg"
      bg="dark.7"
      className="element-card"
      aria-label={`${element.name}, ${TYPE_LABELS[element.type]}${element.status !== "ACTIVE" ? `, ${element.status.toLowerCase()}` : ""}${element.viewerCan.edit ? "" : ", view only"}`}
      data-testid="element-card"
    >
      <Box pos="relative">
        <MediaImage src={main?.thumbnailUrl} alt="" eager={eager} />
        <StatusOverlay element={element} />
        <Group pos="absolute" top={8} left={8} gap={6}>
          <Badge variant="filled" color="dark" radius="sm" size="sm">
            {TYPE_LABELS[element.type]}
          </Badge>
          {!element.viewerCan.edit && (
            <Badge variant="filled" color="dark" radius="sm" size="sm" leftSection={<Eye size={10} aria-hidden />} title="You can use this element in prompts, not change or delete it">
              View only
            </Badge>
          )}
          {element.source === "VIDEO" && (
            <Badge variant="filled" color="dark" radius="sm" size="sm" leftSection={<Clapperboard size={10} aria-hidden />}>
              Video
            </Badge>
          )}
        </Group>
      </Box>
      <Stack gap={6} p="sm">
        <Text fw={600} truncate="end" title={element.name}>
          {element.name}
        </Text>
        <Group justify="space-between" gap={6} wrap="nowrap">
          {element.voice ? (
            <VoiceBadge url={element.viewerCan.downloadVoice ? element.voice.audioUrl : null} name={element.voice.name} />
          ) : (
            <Text size="xs" c="dimmed">
              {element.type === "CHARACTER" ? "No voice" : `${element.images.length} images`}
            </Text>
          )}
          <Text size="xs" c="dimmed">
            v{element.version}
          </Text>
        </Group>
      </Stack>
    </Card>
  );
}

interface PageProps {
  variables: { type: ElementType | null; search: string | null; order: ElementOrder; library: string | null };
  after: string | null;
  isLast: boolean;
  onLoadMore: (cursor: string) => void;
  first: boolean;
  selection: Selection;
  refreshed: boolean;
  empty: React.ReactNode;
}

/** One page of the relay connection: one request for its 24 cards. */
function LibraryGridPage({ variables, after, isLast, onLoadMore, first, selection, refreshed, empty }: PageProps) {
  const [result] = useQuery({
    query: LibraryPageDocument,
    variables: { ...variables, first: PAGE_SIZE, after },
    // After an import the pages are read again from the service, not from the cache.
    requestPolicy: refreshed ? "cache-and-network" : "cache-first",
  });
  const { data, fetching, error } = result;
  if (error && !data)
    return (
      <Alert color="red" role="alert" title="The library could not load">
        {error.message}. Reload the page to try again.
      </Alert>
    );
  if (!data) return first ? <LibrarySkeleton /> : <Center p="md"><Loader aria-label="Loading more" /></Center>;
  const edges = data.elements.edges;
  if (first && edges.length === 0) return variables.type || variables.search ? <NoMatch /> : empty;
  return (
    <>
      {first && (
        <Text size="sm" c="dimmed" aria-live="polite">
          {data.elements.totalCount ?? edges.length} element{data.elements.totalCount === 1 ? "" : "s"}
          {variables.type || variables.search ? " match" : ""}
        </Text>
      )}
      <SimpleGrid cols={{ base: 2, xs: 2, sm: 3, md: 4, lg: 5 }} spacing="md">
        {edges.map(({ node }, i) => (
          <SelectableCard key={node.id} element={node} eager={first && i < 10} selection={selection} />
        ))}
      </SimpleGrid>
      {isLast && data.elements.pageInfo.hasNextPage && (
        <Center>
          <Button
            variant="light"
            loading={fetching}
            onClick={() => onLoadMore(data.elements.pageInfo.endCursor!)}
          >
            Load more
          </Button>
        </Center>
      )}
    </>
  );
}

function LibrarySkeleton() {
  return (
    <SimpleGrid cols={{ base: 2, sm: 3, md: 4, lg: 5 }} spacing="md" aria-busy="true" aria-label="Loading elements">
      {Array.from({ length: 10 }, (_, i) => (
        <div key={i} className="media-frame" style={{ aspectRatio: "3 / 4.9" }} />
      ))}
    </SimpleGrid>
  );
}

function NoMatch() {
  return (
      <Center py={80}>
        <Stack align="center" gap="xs">
          <Search size={36} aria-hidden />
          <Title order={2} size="h3">
            No elements match
          </Title>
          <Text c="dimmed">Try another word or type, or clear the filters.</Text>
        </Stack>
      </Center>
    );
}

/** A library with nothing in it: what to do next, for whoever may (or may not) add. */
function EmptyLibrary({ library, blocked }: { library: LibraryInfo | undefined; blocked: string | null }) {
  const team = library?.kind === "TEAM";
  const newHref = `/elements/new${librarySearch(library?.qualifier)}`;
  return (
    <Center py={80}>
      <Stack align="center" gap="md" maw={520}>
        {team ? (
          <Users size={48} color="var(--mantine-color-violet-4)" aria-hidden />
        ) : (
          <ImagePlus size={48} color="var(--mantine-color-violet-4)" aria-hidden />
        )}
        <Title order={2} ta="center">
          {team ? `${library.name} has no elements yet` : "Your library is empty"}
        </Title>
        <Text c="dimmed" ta="center">
          {team
            ? blocked
              ? "When an editor adds a character, prop or scene here, every member can call it up in their prompts."
              : "Elements you add here are shared with every member of the team: they can call them up in prompts with @."
            : "An element is a character, prop or scene you reuse across videos: upload a clear image (add more angles and a voice for characters), or take a character from a short video."}
        </Text>
        {!(team && blocked) && (
          <Group justify="center">
            <Button component={Link} to={newHref} leftSection={<Plus size={16} />} size="md" disabled={!!blocked}>
              {team ? "Add the first element" : "Create your first element"}
            </Button>
            <Button component={Link} to={`/elements/new/video${librarySearch(library?.qualifier)}`} variant="light" leftSection={<Clapperboard size={16} />} size="md" disabled={!!blocked}>
              From a video
            </Button>
          </Group>
        )}
      </Stack>
    </Center>
  );
}

/** The URL names a library the viewer can't open (unknown, or a team they left). */
function LibraryGone({ qualifier, onPersonal }: { qualifier: string; onPersonal: () => void }) {
  return (
    <Center py={80}>
      <Stack align="center" gap="md" maw={520}>
        <Lock size={44} color="var(--mantine-color-gray-5)" aria-hidden />
        <Title order={2} ta="center">
          This library isn't available
        </Title>
        <Text c="dimmed" ta="center">
          There is no team “{qualifier}” among yours: it may have been deleted, or you are no longer a member.
        </Text>
        <Group justify="center">
          <Button onClick={onPersonal}>Open my library</Button>
          <Button component={Link} to="/teams" variant="light">
            Your teams
          </Button>
        </Group>
      </Stack>
    </Center>
  );
}

/** A disabled action keeps its reason in a tooltip (a disabled button gets no hover); the
 * same reason is written on the page too, for keyboards and screen readers. */
function WithReason({ reason, children }: { reason: string | null; children: React.ReactElement }) {
  if (!reason) return children;
  return (
    <Tooltip label={reason} multiline w={300} withArrow>
      <span style={{ display: "inline-flex" }}>
        {children}
      </span>
    </Tooltip>
  );
}

export default function Library() {
  const { me, refresh } = useSession();
  const [selecting, setSelecting] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [exporting, setExporting] = useState<string[] | null | undefined>(undefined);
  const [importing, setImporting] = useState(false);
  const [generation, setGeneration] = useState(0);
  const selection: Selection = {
    active: selecting,
    ids: selected,
    toggle: (id) => setSelected((ids) => (ids.includes(id) ? ids.filter((x) => x !== id) : [...ids, id])),
  };
  const [params, setParams] = useSearchParams();
  const qualifier = qualifierOf(params.get("library"));
  const { libraries, current, refresh: refreshLibraries } = useLibraries(qualifier);
  const type = (params.get("type") as ElementType | null) || null;
  const order = (params.get("order") as ElementOrder | null) || "UPDATED_DESC";
  const [searchText, setSearchText] = useState(params.get("q") ?? "");
  const [search] = useDebouncedValue(searchText.trim(), 300);
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const variables = { type, search: search || null, order, library: libraryArgument(qualifier) };
  const key = `${JSON.stringify(variables)}#${generation}`;

  const setParam = (name: string, value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(name, value);
    else next.delete(name);
    setParams(next, { replace: true });
    setCursors([null]);
  };
  const switchTo = (q: string) => {
    setSelecting(false);
    setSelected([]);
    const next = new URLSearchParams(params);
    if (q === PERSONAL) next.delete("library");
    else next.set("library", q);
    // A new entry: Back returns to the library chosen before.
    setParams(next);
    setCursors([null]);
  };

  const team = current?.kind === "TEAM";
  // Until the list of libraries is in, the personal library answers from `me` as before.
  const quota = current ? quotaOf(current, me?.elementQuotaReason) : null;
  const createBlocked = current
    ? createBlockedReason(current, me?.elementQuotaReason, me?.canCreateElements ?? true)
    : me && !me.canCreateElements
      ? (me.elementQuotaReason ?? "Your library is full.")
      : null;
  const importBlocked = current && !current.viewerCan.edit ? createBlocked : null;
  const exportBlocked = current && !current.viewerCan.export ? "Your role in this library can't export its elements." : null;
  const gone = current === null;
  const roleLine = team && !current.viewerCan.edit ? createBlocked : null;
  return (
    <Stack gap="lg" py="md">
      <Group justify="space-between" align="flex-end" gap="md">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Group gap="sm" wrap="wrap">
            <Title order={1}>Element Library</Title>
            {team && (
              <Badge variant="light" color="violet" size="lg" leftSection={<Users size={12} aria-hidden />} style={{ overflow: "visible" }}>
                {current.name}
              </Badge>
            )}
          </Group>
          {quota ? (
            <Text c={quota.full ? "orange.4" : "dimmed"} size="sm" aria-label="Element quota">
              {quota.text}
              {quota.reason ? ` · ${quota.reason}` : ""}
            </Text>
          ) : (
            me &&
            !gone && (
              <Text c={me.canCreateElements ? "dimmed" : "orange.4"} size="sm" aria-label="Element quota">
                {me.elementCount} of {me.elementLimit} elements
                {me.elementQuotaReason ? ` · ${me.elementQuotaReason}` : ""}
              </Text>
            )
          )}
        </Stack>
        {!gone && (
          <Group gap="sm">
            <Button
              variant={selecting ? "filled" : "subtle"}
              color={selecting ? "violet" : "gray"}
              leftSection={<CheckSquare size={16} aria-hidden />}
              aria-pressed={selecting}
              disabled={!!exportBlocked}
              onClick={() => {
                setSelecting((s) => !s);
                setSelected([]);
              }}
            >
              {selecting ? "Done selecting" : "Select"}
            </Button>
            <WithReason reason={exportBlocked}>
              <Button
                variant="light"
                leftSection={<Download size={16} aria-hidden />}
                onClick={() => setExporting(selecting && selected.length ? [...selected] : null)}
                disabled={(selecting && selected.length === 0) || !!exportBlocked}
              >
                {selecting ? (selected.length ? `Export ${selected.length} selected` : "Select elements to export") : "Export"}
              </Button>
            </WithReason>
            <WithReason reason={importBlocked}>
              <Button variant="light" leftSection={<Upload size={16} aria-hidden />} onClick={() => setImporting(true)} disabled={!!importBlocked}>
                Import
              </Button>
            </WithReason>
            <Button
              component={Link}
              to={`/elements/new/video${librarySearch(qualifier)}`}
              variant="light"
              leftSection={<Clapperboard size={16} />}
              disabled={!!createBlocked}
            >
              From a video
            </Button>
            <WithReason reason={createBlocked}>
              <Button
                component={Link}
                to={`/elements/new${librarySearch(qualifier)}`}
                leftSection={<Plus size={16} />}
                disabled={!!createBlocked}
              >
                Create element
              </Button>
            </WithReason>
          </Group>
        )}
      </Group>
      {roleLine && (
        <Alert variant="light" color="gray" icon={<Eye size={18} aria-hidden />} aria-label="Your role">
          {roleLine}
        </Alert>
      )}
      <Group gap="sm" align="flex-end" wrap="wrap">
        <LibrarySwitcher libraries={libraries} value={qualifier} onChange={switchTo} />
        <TextInput
          label="Search"
          placeholder="Name or description"
          leftSection={<Search size={16} aria-hidden />}
          value={searchText}
          onChange={(e) => {
            setSearchText(e.currentTarget.value);
            setCursors([null]);
          }}
          onBlur={() => setParam("q", searchText.trim() || null)}
          style={{ flex: "1 1 240px" }}
        />
        <Select
          label="Type"
          data={[{ value: "", label: "All types" }, ...TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] }))]}
          value={type ?? ""}
          onChange={(v) => setParam("type", v || null)}
          allowDeselect={false}
          style={{ flex: "1 1 140px", maxWidth: 200 }}
        />
        <Select
          label="Sort"
          data={SORTS}
          value={order}
          onChange={(v) => setParam("order", v === "UPDATED_DESC" ? null : v)}
          allowDeselect={false}
          style={{ flex: "1 1 160px", maxWidth: 220 }}
        />
      </Group>
      {gone ? (
        <LibraryGone qualifier={qualifier} onPersonal={() => switchTo(PERSONAL)} />
      ) : (
        <Stack gap="md" key={key}>
          {cursors.map((after, i) => (
            <LibraryGridPage
              key={after ?? "first"}
              variables={variables}
              after={after}
              first={i === 0}
              isLast={i === cursors.length - 1}
              onLoadMore={(cursor) => setCursors((c) => [...c, cursor])}
              selection={selection}
              refreshed={generation > 0}
              empty={<EmptyLibrary library={current ?? undefined} blocked={createBlocked} />}
            />
          ))}
        </Stack>
      )}
      <ExportDialog
        opened={exporting !== undefined}
        ids={exporting ?? null}
        library={current ?? null}
        onClose={() => setExporting(undefined)}
      />
      <ImportDialog
        opened={importing}
        library={current ?? null}
        onClose={() => setImporting(false)}
        onImported={() => {
          // New or replaced elements: read the list and the quota again, from the first page.
          setCursors([null]);
          setGeneration((g) => g + 1);
          refresh();
          refreshLibraries();
        }}
      />
    </Stack>
  );
}
