import { Alert, Anchor, Button, Group, Modal, Stack, Text, TextInput, Textarea } from "@mantine/core";
import { Share2 } from "lucide-react";
import { useEffect, useState } from "react";
import { Link } from "react-router";
import { useMutation } from "urql";

import { pick, problemOf, type Problem } from "../app/errors";
import { graphql } from "../gql";

const ShareDocument = graphql(`
  mutation GenerationShare($jobId: ID!, $outputId: ID!, $title: String!, $caption: String) {
    generationShare(jobId: $jobId, outputId: $outputId, title: $title, caption: $caption) {
      ... on ExploreShareResult {
        work {
          id
          status
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

export const TITLE_MAX = 80;
export const CAPTION_MAX = 500;

export interface Shared {
  /** The public work's id (`/explore/<id>`); null while it waits for review. */
  publicId: string | null;
  status: string;
}

/** "Share to Explore": a title (required, ≤ 80) and a caption (≤ 500); the service's refusals
 * at the field they are about (ALREADY_SHARED and JOB_NOT_SUCCEEDED at the form). */
export function ShareDialog({
  opened,
  onClose,
  jobId,
  outputId,
  suggestedTitle,
  onShared,
}: {
  opened: boolean;
  onClose: () => void;
  jobId: string;
  outputId: string;
  suggestedTitle: string;
  onShared: (shared: Shared) => void;
}) {
  const [title, setTitle] = useState("");
  const [caption, setCaption] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, share] = useMutation(ShareDocument);

  useEffect(() => {
    if (opened) {
      setTitle((t) => t || suggestedTitle.slice(0, TITLE_MAX));
      setProblem(null);
    }
  }, [opened, suggestedTitle]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setProblem(null);
    const r = await share({ jobId, outputId, title: title.trim(), caption: caption.trim() || null });
    const payload = r.data?.generationShare;
    const found = problemOf(r.error, payload);
    if (found || !payload || !("work" in payload)) {
      setProblem(pick(found ?? { fields: {}, form: "It could not be shared.", codes: [] }, ["title", "caption"]));
      return;
    }
    onShared({ publicId: payload.work.public?.id ?? null, status: payload.work.status });
    onClose();
  };

  return (
    <Modal opened={opened} onClose={onClose} title="Share to Explore" size="md">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            Anyone can watch it in Explore and recreate it from its recipe (the prompt and the
            elements it mentions). You can take it off Explore later.
          </Text>
          <TextInput
            label="Title"
            value={title}
            onChange={(e) => setTitle(e.currentTarget.value)}
            description={`${title.length} of ${TITLE_MAX} characters`}
            error={problem?.fields.title}
            required
            data-autofocus
          />
          <Textarea
            label="Caption"
            value={caption}
            onChange={(e) => setCaption(e.currentTarget.value)}
            description={`Optional; ${caption.length} of ${CAPTION_MAX} characters`}
            error={problem?.fields.caption}
            rows={4}
          />
          {problem?.form && (
            <Alert color="red" role="alert" title="Not shared">
              {problem.form}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={fetching} leftSection={<Share2 size={16} />}>
              Share
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** What the page shows once shared. */
export function SharedNotice({ shared }: { shared: Shared }) {
  return (
    <Alert color="teal" role="status" title="Shared to Explore">
      {shared.publicId ? (
        <Anchor component={Link} to={`/explore/${encodeURIComponent(shared.publicId)}`}>
          View in Explore
        </Anchor>
      ) : (
        "It appears in Explore once staff have reviewed it."
      )}
    </Alert>
  );
}
