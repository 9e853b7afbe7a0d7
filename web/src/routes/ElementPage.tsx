import {
  DndContext,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  useSensor,
  useSensors,
  type DragEndEvent,
} from "@dnd-kit/core";
import {
  SortableContext,
  arrayMove,
  rectSortingStrategy,
  sortableKeyboardCoordinates,
  useSortable,
} from "@dnd-kit/sortable";
import { CSS } from "@dnd-kit/utilities";
import {
  ActionIcon,
  Alert,
  Badge,
  Box,
  Button,
  Center,
  Group,
  Loader,
  Menu,
  Modal,
  Paper,
  Progress,
  Select,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
  Title,
  Tooltip,
} from "@mantine/core";
import {
  ArrowLeft,
  Crown,
  Eye,
  GripVertical,
  ImagePlus,
  MoreVertical,
  Replace,
  Sparkles,
  Trash2,
  Unlink,
  Users,
  Wand2,
} from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useClient, useMutation, useQuery } from "urql";

import { isSessionProblem, problemOf, type Problem } from "../app/errors";
import { TYPE_LABELS, TYPES, VOICE_TYPES, seconds } from "../app/labels";
import { libraryArgument, librarySearch, PERSONAL } from "../app/libraries";
import { useSession } from "../app/session";
import { FileDrop, IMAGE_ACCEPT } from "../components/FileDrop";
import { HistoryPicker } from "../components/HistoryPicker";
import { MediaImage } from "../components/Media";
import { PlayButton } from "../components/PlayButton";
import { QualityWarnings, VoiceLibraryPicker, VoiceUploader, type ChosenVoice } from "../components/VoiceParts";
import { JobProgressDocument, UpdateDocument } from "../app/documents";
import { graphql } from "../gql";
import type { ElementDetailQuery, ElementType } from "../gql/graphql";

export const ElementDetailDocument = graphql(`
  query ElementDetail($id: ID!) {
    element(id: $id) {
      id
      name
      type
      description
      source
      status
      blockedReason
      version
      progress
      failureCode
      failureMessage
      trimStart
      trimEnd
      clipUrl
      createdAt
      updatedAt
      voiceNotice
      libraryQualifier
      libraryName
      viewerCan {
        edit
        delete
        downloadVoice
        use
      }
      voice {
        id
        name
        durationMs
        audioUrl
        source
        quality {
          warnings {
            code
            message
          }
        }
      }
      images {
        id
        role
        position
        width
        height
        origin
        url
        thumbnailUrl
      }
      detectedSubject {
        type
        confidence
        evidence
      }
      usage {
        recreationCount
        jobs(first: 5) {
          totalCount
          edges {
            node {
              id
              prompt
              status
              createdAt
            }
          }
        }
        sharedWorks(first: 1) {
          totalCount
        }
      }
    }
  }
`);

type Detail = NonNullable<ElementDetailQuery["element"]>;
type Img = Detail["images"][number];


const SetMainDocument = graphql(`
  mutation ElementImageSetMain($input: ElementImageInput!) {
    elementImageSetMain(input: $input) {
      ... on ElementResult {
        element {
          id
          version
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
const RemoveDocument = graphql(`
  mutation ElementImageRemove($input: ElementImageInput!) {
    elementImageRemove(input: $input) {
      ... on ElementResult {
        element {
          id
          version
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
const ReorderDocument = graphql(`
  mutation ElementImageReorder($input: ElementImageReorderInput!) {
    elementImageReorder(input: $input) {
      ... on ElementResult {
        element {
          id
          version
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
const ReplaceDocument = graphql(`
  mutation ElementImageReplace($input: ElementImageReplaceInput!) {
    elementImageReplace(input: $input) {
      ... on ElementImageResult {
        element {
          id
          version
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
const AddDocument = graphql(`
  mutation ElementImageAdd($input: ElementImageAddInput!) {
    elementImageAdd(input: $input) {
      ... on ElementImageResult {
        element {
          id
          version
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
const BindDocument = graphql(`
  mutation ElementVoiceBind($input: ElementVoiceBindInput!) {
    elementVoiceBind(input: $input) {
      ... on ElementWithWarningsResult {
        element {
          id
          version
        }
        voiceWarnings {
          code
          message
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
const UnbindDocument = graphql(`
  mutation ElementVoiceUnbind($input: ElementIdInput!) {
    elementVoiceUnbind(input: $input) {
      ... on ElementResult {
        element {
          id
          version
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
const DeleteDocument = graphql(`
  mutation ElementDelete($input: ElementIdInput!) {
    elementDelete(input: $input) {
      ... on DeleteResult {
        deletedId
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
const MultiViewDocument = graphql(`
  mutation ElementMultiViewComplete($input: ElementMultiViewCompleteInput!) {
    elementMultiViewComplete(input: $input) {
      ... on MultiViewJobResult {
        job {
          id
          status
        }
        freeUse
        creditsCharged
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
const DescribeAgainDocument = graphql(`
  query ElementDescribeAgain($id: ID!) {
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

export default function ElementPage() {
  const { id = "" } = useParams();
  const [params] = useSearchParams();
  const [{ data, fetching, error }, reload] = useQuery({ query: ElementDetailDocument, variables: { id } });
  const element = data?.element;
  const refresh = () => reload({ requestPolicy: "network-only" });

  // A video element being processed: follow its progress.
  useEffect(() => {
    if (element?.status !== "PROCESSING") return;
    const timer = setTimeout(refresh, 1000);
    return () => clearTimeout(timer);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [element?.status, element?.progress, data]);

  if (fetching && !data)
    return (
      <Center h="50vh">
        <Loader aria-label="Loading the element" />
      </Center>
    );
  if (error && !data)
    return (
      <Alert color="red" role="alert" m="md">
        {error.message}
      </Alert>
    );
  if (!element)
    return (
      <Center h="50vh">
        <Stack align="center">
          <Title order={1} size="h2">
            No such element
          </Title>
          <Text c="dimmed">It may have been deleted.</Text>
          <Button component={Link} to="/library">
            Back to the library
          </Button>
        </Stack>
      </Center>
    );
  return <ElementView element={element} refresh={refresh} created={params.get("created") === "1"} />;
}

function useAct() {
  const { setSessionLost } = useSession();
  const [problem, setProblem] = useState<Problem | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  /** Runs one mutation; its refusal is kept to show where it belongs. */
  const act = async <R extends { error?: import("urql").CombinedError; data?: unknown }>(
    label: string,
    run: () => Promise<R>,
    payloadOf: (r: R) => object | null | undefined,
  ): Promise<R | null> => {
    setBusy(label);
    setProblem(null);
    const result = await run();
    setBusy(null);
    const found = problemOf(result.error, payloadOf(result));
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      setProblem({ ...found, form: found.form ?? Object.values(found.fields).join(" ") });
      return null;
    }
    return result;
  };
  return { act, problem, setProblem, busy };
}

function ElementView({ element, refresh, created }: { element: Detail; refresh: () => void; created: boolean }) {
  const navigate = useNavigate();
  const { refresh: refreshMe, me } = useSession();
  const images = [...element.images].sort((a, b) => a.position - b.position);
  const main = images.find((i) => i.role === "MAIN") ?? images[0];
  const extras = images.filter((i) => i.role === "EXTRA");
  const [deleting, setDeleting] = useState(false);
  const [, del] = useMutation(DeleteDocument);
  const { act, problem } = useAct();

  // Over the tier limit (after a downgrade) elements stay usable but frozen: say why.
  const team = element.libraryQualifier !== PERSONAL;
  const frozen = !team && !!me && !me.canEditElements;
  // What the viewer may do comes from the service's policy (viewerCan), never from a role.
  const readOnly = !element.viewerCan.edit;
  const editable = element.status === "ACTIVE" && !frozen && !readOnly;
  const backTo = `/library${librarySearch(element.libraryQualifier)}`;
  return (
    <Stack gap="lg" py="md">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
          <ActionIcon variant="subtle" component={Link} to={backTo} aria-label="Back to the library">
            <ArrowLeft size={18} />
          </ActionIcon>
          <Title order={1} style={{ overflowWrap: "anywhere" }}>
            {element.name}
          </Title>
          <Badge variant="light" style={{ flexShrink: 0 }}>
            {TYPE_LABELS[element.type]}
          </Badge>
          <Badge variant="outline" color="gray" style={{ flexShrink: 0 }} aria-label={`Version ${element.version}`}>
            v{element.version}
          </Badge>
          {team && (
            <Badge variant="light" color="violet" leftSection={<Users size={12} aria-hidden />} style={{ flexShrink: 0 }} aria-label={`Library: ${element.libraryName}`}>
              {element.libraryName}
            </Badge>
          )}
        </Group>
        {element.viewerCan.delete && (
          <Button color="red" variant="light" leftSection={<Trash2 size={16} />} onClick={() => setDeleting(true)}>
            Delete
          </Button>
        )}
      </Group>
      {created && element.status !== "FAILED" && (
        <Alert color="teal" variant="light" py="xs" role="status">
          Element created. Mention it in prompts as @{element.name}.
        </Alert>
      )}
      <StatusBanner element={element} />
      {readOnly && (
        <Alert color="gray" variant="light" icon={<Eye size={18} aria-hidden />} title="View only">
          {element.viewerCan.use
            ? `Your role in ${element.libraryName} lets you call this element up in prompts and export it, not change or delete it`
            : `Your role in ${element.libraryName} doesn't let you change or delete this element`}
          {element.voice && !element.viewerCan.downloadVoice ? ", nor play or download its voice." : "."}
        </Alert>
      )}
      {frozen && element.status === "ACTIVE" && (
        <Alert color="orange" role="alert" title="Editing is paused">
          {me?.elementQuotaReason}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="xl">
        <Stack gap="md">
          {element.source === "VIDEO" && element.clipUrl ? (
            <Box className="media-frame contain" style={{ aspectRatio: "16 / 9" }}>
              <video src={element.clipUrl} controls aria-label="The trimmed clip" />
            </Box>
          ) : null}
          {main && <MediaImage src={main.url} alt={`${element.name}, main image`} ratio="1 / 1" contain eager />}
          {images.length > 0 && (
            <ImagesEditor element={element} main={main} extras={extras} refresh={refresh} editable={editable} />
          )}
        </Stack>
        <Stack gap="lg">
          <DetailsEditor element={element} editable={editable} />
          {element.type === "CHARACTER" || element.voice ? (
            <VoiceEditor element={element} editable={editable && VOICE_TYPES.includes(element.type)} />
          ) : null}
          <UsagePanel element={element} />
        </Stack>
      </SimpleGrid>
      <Modal opened={deleting} onClose={() => setDeleting(false)} title={`Delete “${element.name}”?`} centered>
        <Stack>
          <Text size="sm">
            Its images go too; jobs already made with it keep their results. This can't be undone.
          </Text>
          {problem?.form && <Alert color="red">{problem.form}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(false)} data-autofocus>
              Keep it
            </Button>
            <Button
              color="red"
              onClick={async () => {
                const ok = await act("delete", () => del({ input: { id: element.id } }), (r) => r.data?.elementDelete);
                if (ok) {
                  refreshMe();
                  navigate(backTo, { replace: true });
                }
              }}
            >
              Delete element
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function StatusBanner({ element }: { element: Detail }) {
  if (element.status === "PROCESSING")
    return (
      <Paper withBorder p="md" radius="md" aria-live="polite">
        <Text fw={600} mb={6}>
          Processing the video: finding the face, the keyframes and the voice… {element.progress}%
        </Text>
        <Progress value={element.progress} animated aria-label="Processing progress" />
      </Paper>
    );
  if (element.status === "FAILED")
    return (
      <Alert color="red" title="This video element could not be made" role="alert">
        {element.failureMessage} ({element.failureCode}). Delete it and try another clip: it isn't counted as made.
      </Alert>
    );
  if (element.status === "BLOCKED")
    return (
      <Alert color="orange" title="Blocked by moderation" role="alert">
        {element.blockedReason || "It can't be used or edited."}
      </Alert>
    );
  return null;
}

function SortableThumb({ image, index, editable, children }: { image: Img; index: number; editable: boolean; children: React.ReactNode }) {
  const { attributes, listeners, setNodeRef, transform, transition, isDragging } = useSortable({ id: image.id, disabled: !editable });
  return (
    <Box
      ref={setNodeRef}
      pos="relative"
      style={{ transform: CSS.Transform.toString(transform), transition, zIndex: isDragging ? 2 : undefined, opacity: isDragging ? 0.8 : 1 }}
    >
      <MediaImage src={image.thumbnailUrl} alt={`Extra image ${index + 1}`} ratio="1 / 1" />
      {editable && (
        <ActionIcon
          {...attributes}
          {...listeners}
          pos="absolute"
          bottom={6}
          left={6}
          variant="filled"
          color="dark"
          aria-label={`Move extra image ${index + 1} (Space to pick up, arrows to move, Space to drop)`}
          style={{ cursor: "grab" }}
        >
          <GripVertical size={14} />
        </ActionIcon>
      )}
      {children}
    </Box>
  );
}

function ImagesEditor({ element, main, extras, refresh, editable }: { element: Detail; main: Img | undefined; extras: Img[]; refresh: () => void; editable: boolean }) {
  const client = useClient();
  const { refresh: refreshMe, me } = useSession();
  const [order, setOrder] = useState(extras.map((i) => i.id));
  const [, setMain] = useMutation(SetMainDocument);
  const [, remove] = useMutation(RemoveDocument);
  const [, reorder] = useMutation(ReorderDocument);
  const [, replace] = useMutation(ReplaceDocument);
  const [, add] = useMutation(AddDocument);
  const [, multi] = useMutation(MultiViewDocument);
  const { act, problem, busy } = useAct();
  const replaceInput = useRef<HTMLInputElement>(null);
  const [replacing, setReplacing] = useState<string | null>(null);
  const [jobProgress, setJobProgress] = useState<number | null>(null);
  const key = extras.map((i) => i.id).join();
  useEffect(() => setOrder(extras.map((i) => i.id)), [key]); // eslint-disable-line react-hooks/exhaustive-deps

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: sortableKeyboardCoordinates }),
  );
  const byId = new Map(extras.map((i) => [i.id, i]));
  const onDragEnd = async ({ active, over }: DragEndEvent) => {
    if (!over || active.id === over.id) return;
    const next = arrayMove(order, order.indexOf(String(active.id)), order.indexOf(String(over.id)));
    setOrder(next);
    const ok = await act("reorder", () => reorder({ input: { elementId: element.id, imageIds: next } }), (r) => r.data?.elementImageReorder);
    if (!ok) setOrder(extras.map((i) => i.id));
    refresh();
  };

  const slotsFree = 4 - (extras.length + 1);
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Text fw={600}>
          Images <Text span c="dimmed">({extras.length + 1} of 4)</Text>
        </Text>
        {busy && <Loader size="xs" aria-label="Saving" />}
      </Group>
      <DndContext sensors={sensors} collisionDetection={closestCenter} onDragEnd={onDragEnd}>
        <SortableContext items={order} strategy={rectSortingStrategy}>
          <SimpleGrid cols={{ base: 3, sm: 4 }} spacing="sm">
            {main && (
              <Box pos="relative">
                <MediaImage src={main.thumbnailUrl} alt="Main image" ratio="1 / 1" />
                <Badge pos="absolute" top={6} left={6} size="xs" leftSection={<Crown size={10} />}>
                  Main
                </Badge>
                {editable && (
                  <ActionIcon
                    pos="absolute"
                    top={6}
                    right={6}
                    variant="filled"
                    color="dark"
                    aria-label="Replace the main image"
                    onClick={() => {
                      setReplacing(main.id);
                      replaceInput.current?.click();
                    }}
                  >
                    <Replace size={14} />
                  </ActionIcon>
                )}
              </Box>
            )}
            {order.map((imageId, index) => {
              const image = byId.get(imageId);
              if (!image) return null;
              return (
                <SortableThumb key={imageId} image={image} index={index} editable={editable}>
                  {editable && (
                    <Menu position="bottom-end" withinPortal>
                      <Menu.Target>
                        <ActionIcon pos="absolute" top={6} right={6} variant="filled" color="dark" aria-label={`Actions for extra image ${index + 1}`}>
                          <MoreVertical size={14} />
                        </ActionIcon>
                      </Menu.Target>
                      <Menu.Dropdown>
                        <Menu.Item
                          leftSection={<Crown size={14} />}
                          onClick={async () => {
                            await act("main", () => setMain({ input: { elementId: element.id, imageId } }), (r) => r.data?.elementImageSetMain);
                            refresh();
                          }}
                        >
                          Set as main
                        </Menu.Item>
                        <Menu.Item
                          leftSection={<Replace size={14} />}
                          onClick={() => {
                            setReplacing(imageId);
                            replaceInput.current?.click();
                          }}
                        >
                          Replace…
                        </Menu.Item>
                        <Menu.Item
                          color="red"
                          leftSection={<Trash2 size={14} />}
                          onClick={async () => {
                            await act("remove", () => remove({ input: { elementId: element.id, imageId } }), (r) => r.data?.elementImageRemove);
                            refresh();
                          }}
                        >
                          Remove
                        </Menu.Item>
                      </Menu.Dropdown>
                    </Menu>
                  )}
                </SortableThumb>
              );
            })}
          </SimpleGrid>
        </SortableContext>
      </DndContext>
      <input
        ref={replaceInput}
        type="file"
        accept="image/jpeg,image/png,image/webp"
        hidden
        aria-label="Replacement image file"
        onChange={async (e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = "";
          if (!file || !replacing) return;
          await act("replace", () => replace({ input: { elementId: element.id, imageId: replacing, file } }), (r) => r.data?.elementImageReplace);
          refresh();
        }}
      />
      {problem?.form && (
        <Alert color="red" role="alert" variant="light">
          {problem.form}
        </Alert>
      )}
      {editable && slotsFree > 0 && (
        <Stack gap="xs">
          <FileDrop
            label="Add an image"
            hint={`${slotsFree} free slot${slotsFree === 1 ? "" : "s"} · JPEG, PNG or WebP`}
            accept={IMAGE_ACCEPT}
            onFiles={async (files) => {
              await act("add", () => add({ input: { elementId: element.id, file: files[0] } }), (r) => r.data?.elementImageAdd);
              refresh();
            }}
          />
          <Group gap="sm">
            <HistoryPicker
              label="Add from History"
              onPick={async (c) => {
                await act("add", () => add({ input: { elementId: element.id, fromHistory: { outputId: c.outputId } } }), (r) => r.data?.elementImageAdd);
                refresh();
              }}
            />
            <Tooltip
              label={
                me && me.freeMultiviewUsesLeftToday > 0
                  ? `${me.freeMultiviewUsesLeftToday} free uses left today`
                  : `${me?.multiviewPriceCredits ?? "?"} credits`
              }
            >
              <Button
                variant="light"
                leftSection={<Wand2 size={16} />}
                loading={busy === "multiview"}
                onClick={async () => {
                  const r = await act("multiview", () => multi({ input: { elementId: element.id } }), (x) => x.data?.elementMultiViewComplete);
                  const payload = r?.data?.elementMultiViewComplete;
                  if (payload?.__typename === "MultiViewJobResult") {
                    for (;;) {
                      const j = await client.query(
                        JobProgressDocument,
                        { id: payload.job.id },
                        { requestPolicy: "network-only" },
                      ).toPromise();
                      const job = j.data?.generationJob;
                      setJobProgress(job?.progress ?? null);
                      if (!job || !["QUEUED", "RUNNING"].includes(job.status)) break;
                      await new Promise((res) => setTimeout(res, 800));
                    }
                    setJobProgress(null);
                    refreshMe();
                    refresh();
                  }
                }}
              >
                AI multi-view
              </Button>
            </Tooltip>
          </Group>
          {jobProgress !== null && <Progress value={jobProgress} animated aria-label="Multi-view progress" />}
        </Stack>
      )}
    </Stack>
  );
}

function DetailsEditor({ element, editable }: { element: Detail; editable: boolean }) {
  const client = useClient();
  const [name, setName] = useState(element.name);
  const [type, setType] = useState<ElementType>(element.type);
  const [description, setDescription] = useState(element.description);
  const [saved, setSaved] = useState(false);
  const [describing, setDescribing] = useState(false);
  const [, update] = useMutation(UpdateDocument);
  const { act, problem, setProblem } = useAct();
  useEffect(() => {
    setName(element.name);
    setType(element.type);
    setDescription(element.description);
  }, [element.id, element.version]); // eslint-disable-line react-hooks/exhaustive-deps

  const dirty = name !== element.name || type !== element.type || description !== element.description;
  const save = async () => {
    setSaved(false);
    const input = {
      id: element.id,
      ...(name !== element.name ? { name } : {}),
      ...(type !== element.type ? { type } : {}),
      ...(description !== element.description ? { description } : {}),
    };
    const ok = await act("save", () => update({ input }), (r) => r.data?.elementUpdate);
    if (ok) setSaved(true);
  };
  const fields = problem?.fields ?? {};
  return (
    <Paper withBorder p="md" radius="lg" bg="dark.7">
      <Stack gap="sm">
        <Group justify="space-between">
          <Title order={2} size="h4">
            Details
          </Title>
          <Text size="xs" c="dimmed">
            Version {element.version} · changed {new Date(element.updatedAt).toLocaleString()}
          </Text>
        </Group>
        <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fields.name} disabled={!editable} maxLength={40} />
        <Select
          label="Type"
          data={TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] }))}
          value={type}
          onChange={(v) => v && setType(v as ElementType)}
          error={fields.type}
          disabled={!editable}
          allowDeselect={false}
          description={
            element.detectedSubject
              ? `Detected: ${TYPE_LABELS[element.detectedSubject.type]} — ${element.detectedSubject.evidence}`
              : undefined
          }
        />
        <Textarea
          label="Description"
          value={description}
          onChange={(e) => setDescription(e.currentTarget.value)}
          error={fields.description}
          autosize
          minRows={3}
          maxLength={500}
          disabled={!editable}
        />
        {problem?.form && !Object.keys(fields).length && (
          <Alert color="red" role="alert">
            {problem.form}
          </Alert>
        )}
        <Group justify="space-between">
          <Button
            variant="subtle"
            leftSection={<Sparkles size={16} />}
            loading={describing}
            disabled={!editable}
            onClick={async () => {
              setDescribing(true);
              const r = await client.query(DescribeAgainDocument, { id: element.id }, { requestPolicy: "network-only" }).toPromise();
              setDescribing(false);
              const d = r.data?.elementDescribe;
              const found = problemOf(r.error, d);
              if (found) return setProblem(found);
              if (d?.__typename === "ElementDescriptionSuggestion") setDescription(d.description);
            }}
          >
            AI auto-description
          </Button>
          <Group gap="sm">
            {saved && !dirty && (
              <Text size="sm" c="green.4" aria-live="polite">
                Saved
              </Text>
            )}
            <Button onClick={save} disabled={!dirty || !editable}>
              Save changes
            </Button>
          </Group>
        </Group>
      </Stack>
    </Paper>
  );
}

function VoiceEditor({ element, editable }: { element: Detail; editable: boolean }) {
  const [open, setOpen] = useState(false);
  const [mode, setMode] = useState<"library" | "upload">("library");
  const [warnings, setWarnings] = useState<{ code: string; message: string }[]>([]);
  const [, bind] = useMutation(BindDocument);
  const [, unbind] = useMutation(UnbindDocument);
  const { act, problem } = useAct();
  const voice = element.voice;
  const choose = async (v: ChosenVoice) => {
    const r = await act("bind", () => bind({ input: { elementId: element.id, voiceId: v.id } }), (x) => x.data?.elementVoiceBind);
    if (r) {
      setWarnings(v.warnings);
      setOpen(false);
    }
  };
  return (
    <Paper withBorder p="md" radius="lg" bg="dark.7">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Voice
        </Title>
        {voice ? (
          <Group justify="space-between" wrap="wrap" gap="sm">
            <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
              <PlayButton url={element.viewerCan.downloadVoice ? voice.audioUrl : null} name={voice.name} />
              <Stack gap={0}>
                <Text fw={600}>{voice.name}</Text>
                <Text size="xs" c="dimmed">
                  {seconds(voice.durationMs)} · {voice.source === "VIDEO" ? "native voice from the video" : voice.source === "PRESET" ? "Voice Library preset" : element.libraryQualifier !== PERSONAL ? `a sample in ${element.libraryName}` : "your sample"}
                </Text>
              </Stack>
            </Group>
            {editable && (
              <Group gap="xs" wrap="nowrap">
                <Button size="xs" variant="light" onClick={() => setOpen(true)}>
                  Replace
                </Button>
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  leftSection={<Unlink size={14} />}
                  onClick={() => act("unbind", () => unbind({ input: { id: element.id } }), (x) => x.data?.elementVoiceUnbind)}
                >
                  Unbind
                </Button>
              </Group>
            )}
          </Group>
        ) : (
          <Group justify="space-between">
            <Text c="dimmed">No voice: this character won't speak.</Text>
            {editable && (
              <Button size="xs" variant="light" onClick={() => setOpen(true)}>
                Bind a voice
              </Button>
            )}
          </Group>
        )}
        {element.voiceNotice && <Text size="sm" c="yellow.4">{element.voiceNotice}</Text>}
        <QualityWarnings warnings={warnings.length ? warnings : voice?.quality?.warnings ?? []} />
        {problem?.form && (
          <Alert color="red" role="alert">
            {problem.form}
          </Alert>
        )}
      </Stack>
      <Modal opened={open} onClose={() => setOpen(false)} title="Choose a voice" size="lg">
        <Stack>
          <SegmentedControl
            value={mode}
            onChange={(v) => setMode(v as typeof mode)}
            data={[
              { value: "library", label: "Voice Library" },
              { value: "upload", label: "Upload a sample" },
            ]}
            aria-label="Voice source"
          />
          {mode === "library" ? (
            <VoiceLibraryPicker value={voice?.id ?? null} onChange={choose} library={libraryArgument(element.libraryQualifier)} />
          ) : (
            <VoiceUploader onUploaded={choose} submitLabel="Upload and bind" library={libraryArgument(element.libraryQualifier)} />
          )}
        </Stack>
      </Modal>
    </Paper>
  );
}

const plural = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

function UsagePanel({ element }: { element: Detail }) {
  const usage = element.usage;
  const jobs = usage?.jobs.edges.map((e) => e.node) ?? [];
  return (
    <Paper withBorder p="md" radius="lg" bg="dark.7">
      <Stack gap="xs">
        <Title order={2} size="h4">
          Where it was used
        </Title>
        {usage && (usage.jobs.totalCount ?? 0) > 0 ? (
          <>
            <Text size="sm">
              {plural(usage.jobs.totalCount ?? 0, "job")} · {plural(usage.sharedWorks.totalCount ?? 0, "shared work")} ·
              recreated {plural(usage.recreationCount, "time")}
            </Text>
            {jobs.map((j) => (
              <Text key={j.id} size="sm" c="dimmed" lineClamp={1}>
                {new Date(j.createdAt).toLocaleDateString()} · {j.status.toLowerCase()} · {j.prompt}
              </Text>
            ))}
          </>
        ) : (
          <Text size="sm" c="dimmed">
            Not used yet. Mention @{element.name} in a prompt to use it.
          </Text>
        )}
        <Group gap={4}>
          <ImagePlus size={14} aria-hidden />
          <Text size="xs" c="dimmed">
            Created {new Date(element.createdAt).toLocaleString()}
          </Text>
        </Group>
      </Stack>
    </Paper>
  );
}
