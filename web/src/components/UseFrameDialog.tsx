import { Alert, Anchor, Button, Group, Modal, NativeSelect, NumberInput, Radio, Stack, Text, TextInput } from "@mantine/core";
import { ImagePlus } from "lucide-react";
import { useEffect, useState } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { TYPE_LABELS, TYPES } from "../app/labels";
import { useSession } from "../app/session";
import { graphql } from "../gql";
import type { ElementType } from "../gql/graphql";

const FrameElementsDocument = graphql(`
  query FrameElements {
    elements(first: 100, order: NAME_ASC) {
      edges {
        node {
          id
          name
          type
          images {
            id
          }
        }
      }
    }
  }
`);

const FrameCreateDocument = graphql(`
  mutation FrameElementCreate($input: ElementCreateInput!) {
    elementCreate(input: $input) {
      ... on ElementWithWarningsResult {
        element {
          id
          name
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

const FrameAddDocument = graphql(`
  mutation FrameImageAdd($input: ElementImageAddInput!) {
    elementImageAdd(input: $input) {
      ... on ElementImageResult {
        element {
          id
          name
          version
        }
        image {
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

export interface FrameSource {
  outputId: string;
  kind: "IMAGE" | "VIDEO";
  /** Seconds of video; null for an image. */
  duration: number | null;
}

/** The time to prefill: the player's position, rounded to a tenth, within the video. */
export function initialTime(current: number | null | undefined, duration: number | null): number {
  const t = Number.isFinite(current) && current! > 0 ? current! : 0;
  const capped = duration ? Math.min(t, Math.max(0, duration - 0.05)) : t;
  return Math.round(capped * 10) / 10;
}

const MAX_IMAGES = 4;

/** "Use frame as element image": a video's frame (or an image output) becomes the main image
 * of a new element (AI multi-view fills its other angles) or one more image of an existing
 * one. */
export function UseFrameDialog({
  opened,
  onClose,
  source,
  currentTime,
}: {
  opened: boolean;
  onClose: () => void;
  source: FrameSource;
  currentTime: number | null;
}) {
  const video = source.kind === "VIDEO";
  const { me, refresh } = useSession();
  const navigate = useNavigate();
  const [at, setAt] = useState<number | string>(0);
  const [target, setTarget] = useState<"new" | "existing">("new");
  const [name, setName] = useState("");
  const [type, setType] = useState<ElementType>("CHARACTER");
  const [elementId, setElementId] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [added, setAdded] = useState<{ id: string; name: string } | null>(null);
  const [{ fetching: creating }, create] = useMutation(FrameCreateDocument);
  const [{ fetching: adding }, add] = useMutation(FrameAddDocument);
  const [elements] = useQuery({ query: FrameElementsDocument, pause: !opened || target !== "existing", requestPolicy: "network-only" });

  // Each opening starts from where the player is.
  useEffect(() => {
    if (opened) {
      setAt(initialTime(currentTime, source.duration));
      setProblem(null);
      setAdded(null);
    }
  }, [opened, currentTime, source.duration]);

  const options = (elements.data?.elements.edges ?? []).map(({ node }) => ({
    value: node.id,
    label: `${node.name} (${TYPE_LABELS[node.type]}, ${node.images.length} of ${MAX_IMAGES} images)`,
    disabled: node.images.length >= MAX_IMAGES,
  }));
  useEffect(() => {
    if (target === "existing" && !elementId) {
      const first = options.find((o) => !o.disabled);
      if (first) setElementId(first.value);
    }
  }, [target, elementId, options]);

  const fromHistory = { outputId: source.outputId, at: video ? Number(at) || 0 : null };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setProblem(null);
    setAdded(null);
    if (video && (typeof at !== "number" || at < 0 || (source.duration !== null && at > source.duration))) {
      setProblem({ fields: { at: `Choose a time between 0 and ${source.duration ?? 0} seconds.` }, form: null, codes: [] });
      return;
    }
    if (target === "new") {
      if (!name.trim()) {
        setProblem({ fields: { name: "Give the element a name." }, form: null, codes: [] });
        return;
      }
      const r = await create({
        input: { name: name.trim(), type, mainImageFromHistory: fromHistory, extraImages: [], multiView: true },
      });
      const payload = r.data?.elementCreate;
      const found = problemOf(r.error, payload);
      if (found || !payload || !("element" in payload)) {
        setProblem(pick(found ?? { fields: {}, form: "The element could not be created.", codes: [] }, ["name", "type", "at"]) ?? null);
        return;
      }
      refresh();
      onClose();
      navigate(`/elements/${encodeURIComponent(payload.element.id)}`);
      return;
    }
    if (!elementId) {
      setProblem({ fields: { elementId: "Choose an element." }, form: null, codes: [] });
      return;
    }
    const r = await add({ input: { elementId, fromHistory } });
    const payload = r.data?.elementImageAdd;
    const found = problemOf(r.error, payload);
    if (found || !payload || !("element" in payload)) {
      setProblem(pick(found ?? { fields: {}, form: "The image could not be added.", codes: [] }, ["elementId"]) ?? null);
      return;
    }
    setAdded({ id: payload.element.id, name: payload.element.name });
  };

  const multiViewNote = me
    ? me.freeMultiviewUsesLeftToday > 0
      ? `AI multi-view makes its other angles from this frame: free (${me.freeMultiviewUsesLeftToday} of ${me.freeMultiviewUsesPerDay} free uses left today).`
      : `AI multi-view makes its other angles from this frame: ${me.multiviewPriceCredits} credits (you have ${me.creditBalance}), given back if it fails.`
    : "";
  const busy = creating || adding;
  return (
    <Modal opened={opened} onClose={onClose} title={video ? "Use frame as element image" : "Use image as element image"} size="md">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          {video && (
            <NumberInput
              label="Time (seconds)"
              description={source.duration ? `Any moment from 0 to ${source.duration} s; the player's position is filled in.` : undefined}
              value={at}
              onChange={setAt}
              min={0}
              max={source.duration ?? undefined}
              step={0.1}
              decimalScale={2}
              error={problem?.fields.at ?? problem?.fields["fromHistory.at"] ?? problem?.fields["mainImageFromHistory.at"]}
              data-autofocus
            />
          )}
          <Radio.Group label="Use it for" value={target} onChange={(v) => setTarget(v as "new" | "existing")}>
            <Group gap="lg" mt={6}>
              <Radio value="new" label="New element" />
              <Radio value="existing" label="Add to existing element" />
            </Group>
          </Radio.Group>
          {target === "new" ? (
            <>
              <TextInput
                label="Name"
                value={name}
                onChange={(e) => setName(e.currentTarget.value)}
                maxLength={40}
                required
                error={problem?.fields.name}
                data-autofocus={!video || undefined}
              />
              <NativeSelect
                label="Type"
                data={TYPES.map((t) => ({ value: t, label: TYPE_LABELS[t] }))}
                value={type}
                onChange={(e) => setType(e.currentTarget.value as ElementType)}
                error={problem?.fields.type}
              />
              <Text size="xs" c="dimmed">
                The {video ? "frame" : "image"} becomes the main image. {multiViewNote}
              </Text>
            </>
          ) : elements.fetching && !elements.data ? (
            <Text size="sm" c="dimmed">
              Reading your library…
            </Text>
          ) : options.length === 0 ? (
            <Text size="sm" c="dimmed">
              Your library has no elements yet: make a new one instead.
            </Text>
          ) : (
            <NativeSelect
              label="Element"
              data={options}
              value={elementId}
              onChange={(e) => setElementId(e.currentTarget.value)}
              error={problem?.fields.elementId ?? (elements.error ? elements.error.message : undefined)}
              description="It becomes one more image of that element (up to 4 in all)."
            />
          )}
          {problem?.form && (
            <Alert color="red" role="alert" title={isSessionProblem(problem) ? "Signed out" : "Not done"}>
              {problem.form}
            </Alert>
          )}
          {added && (
            <Alert color="teal" role="status" title="Image added">
              The {video ? "frame" : "image"} is now an image of{" "}
              <Anchor component={Link} to={`/elements/${encodeURIComponent(added.id)}`}>
                {added.name}
              </Anchor>
              .
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              {added ? "Close" : "Cancel"}
            </Button>
            <Button type="submit" loading={busy} leftSection={<ImagePlus size={16} />}>
              Use frame
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
