import { Button, Center, Loader, Modal, SimpleGrid, Stack, Text, UnstyledButton } from "@mantine/core";
import { History } from "lucide-react";
import { useState } from "react";
import { useQuery } from "urql";

import { graphql } from "../gql";
import { MediaImage } from "./Media";

const HistoryDocument = graphql(`
  query HistoryOutputs($first: Int!) {
    generationOutputs(first: $first) {
      edges {
        node {
          id
          kind
          width
          height
          thumbnailUrl
          posterUrl
          url
          durationMs
        }
      }
    }
  }
`);

export interface HistoryChoice {
  outputId: string;
  /** The still to show (and to analyse): an image, or a video's poster frame. */
  imageUrl: string;
}

/** "Select from History": the viewer's generated images and videos (a video gives its first
 * frame). */
export function HistoryPicker({ onPick, label = "Select from History" }: { onPick: (c: HistoryChoice) => void; label?: string }) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="default" leftSection={<History size={16} />} onClick={() => setOpen(true)}>
        {label}
      </Button>
      <Modal opened={open} onClose={() => setOpen(false)} title="Your creation history" size="xl">
        {open && (
          <HistoryGrid
            onPick={(c) => {
              setOpen(false);
              onPick(c);
            }}
          />
        )}
      </Modal>
    </>
  );
}

function HistoryGrid({ onPick }: { onPick: (c: HistoryChoice) => void }) {
  const [{ data, fetching, error }] = useQuery({ query: HistoryDocument, variables: { first: 60 } });
  if (fetching && !data)
    return (
      <Center p="xl">
        <Loader aria-label="Loading your history" />
      </Center>
    );
  if (error) return <Text c="red.5">{error.message}</Text>;
  const outputs = data?.generationOutputs.edges.map((e) => e.node) ?? [];
  if (!outputs.length)
    return (
      <Stack align="center" p="xl" gap={4}>
        <Text fw={600}>Nothing in your history yet</Text>
        <Text c="dimmed" size="sm" ta="center">
          Images and videos you generate appear here. Upload an image instead.
        </Text>
      </Stack>
    );
  return (
    <SimpleGrid cols={{ base: 2, sm: 4 }}>
      {outputs.map((o) => (
        <UnstyledButton
          key={o.id}
          onClick={() => onPick({ outputId: o.id, imageUrl: o.kind === "VIDEO" ? o.posterUrl : o.url })}
          aria-label={`Use this ${o.kind === "VIDEO" ? "video's first frame" : "image"} (${o.width}×${o.height})`}
        >
          <MediaImage src={o.thumbnailUrl} alt="" ratio="1 / 1" />
        </UnstyledButton>
      ))}
    </SimpleGrid>
  );
}
