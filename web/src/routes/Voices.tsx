import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Center,
  Group,
  Loader,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  Title,
} from "@mantine/core";
import { AudioLines, Trash2, TriangleAlert } from "lucide-react";
import { useState } from "react";
import { useMutation, useQuery } from "urql";

import { isSessionProblem, problemOf, type Problem } from "../app/errors";
import { seconds } from "../app/labels";
import { useSession } from "../app/session";
import { PlayButton } from "../components/PlayButton";
import { QualityWarnings, VoiceListDocument, VoiceUploader } from "../components/VoiceParts";
import { graphql } from "../gql";
import type { VoiceListQuery } from "../gql/graphql";

type VoiceRow = VoiceListQuery["voices"]["edges"][number]["node"];

const VoiceDeleteDocument = graphql(`
  mutation VoiceDelete($input: VoiceIdInput!) {
    voiceDelete(input: $input) {
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

function VoiceCard({ voice, onDelete }: { voice: VoiceRow; onDelete?: () => void }) {
  const warnings = voice.quality?.warnings ?? [];
  return (
    <Paper withBorder p="md" radius="lg" bg="dark.7" data-testid="voice-card" aria-label={`Voice ${voice.name}`} component="article">
      <Group justify="space-between" wrap="nowrap" align="flex-start">
        <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
          <PlayButton url={voice.audioUrl} name={voice.name} />
          <Stack gap={2} style={{ minWidth: 0 }}>
            <Text fw={600} truncate="end">
              {voice.name}
            </Text>
            <Text size="xs" c="dimmed">
              {seconds(voice.durationMs)}
              {voice.language ? ` · ${voice.language}` : ""}
              {voice.source === "VIDEO" ? " · from a video" : ""}
            </Text>
            {voice.styleTags.length > 0 && (
              <Group gap={4}>
                {voice.styleTags.map((t) => (
                  <Badge key={t} size="xs" variant="light" color="gray">
                    {t}
                  </Badge>
                ))}
              </Group>
            )}
          </Stack>
        </Group>
        {onDelete && (
          <ActionIcon variant="subtle" color="red" onClick={onDelete} aria-label={`Delete voice ${voice.name}`}>
            <Trash2 size={16} />
          </ActionIcon>
        )}
      </Group>
      {voice.status === "TAKEN_DOWN" && (
        <Text size="xs" c="orange.4" mt="xs">
          Taken down by moderation
        </Text>
      )}
      {warnings.length > 0 && (
        <Group gap={4} mt="xs" title={warnings.map((w) => w.message).join("\n")}>
          <TriangleAlert size={12} color="var(--mantine-color-yellow-5)" aria-hidden />
          <Text size="xs" c="yellow.5">
            {warnings.length} quality warning{warnings.length === 1 ? "" : "s"}: {warnings[0].message}
          </Text>
        </Group>
      )}
    </Paper>
  );
}

export default function Voices() {
  const { setSessionLost } = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: VoiceListDocument, variables: { first: 100 } });
  const [, remove] = useMutation(VoiceDeleteDocument);
  const [deleting, setDeleting] = useState<VoiceRow | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [lastWarnings, setLastWarnings] = useState<{ code: string; message: string }[]>([]);
  const voices = (data?.voices.edges ?? []).map((e) => e.node);
  const presets = voices.filter((v) => v.isPreset);
  const mine = voices.filter((v) => !v.isPreset);
  const refresh = () => reload({ requestPolicy: "network-only" });

  return (
    <Stack gap="xl" py="md">
      <Stack gap={2}>
        <Title order={1}>Voices</Title>
        <Text c="dimmed" size="sm">
          Your own samples and the Voice Library's presets: bind any of them to a character.
        </Text>
      </Stack>
      <SimpleGrid cols={{ base: 1, md: 3 }} spacing="xl">
        <Paper withBorder p="md" radius="lg" bg="dark.7" style={{ gridColumn: "span 1" }}>
          <Stack gap="sm">
            <Title order={2} size="h4">
              Upload a voice
            </Title>
            <VoiceUploader
              onUploaded={(v) => {
                setLastWarnings(v.warnings);
                refresh();
              }}
            />
            <QualityWarnings warnings={lastWarnings} />
          </Stack>
        </Paper>
        <Stack gap="md" style={{ gridColumn: "span 2" }}>
          <Title order={2} size="h4">
            Your voices
          </Title>
          {fetching && !data ? (
            <Center p="lg">
              <Loader aria-label="Loading voices" />
            </Center>
          ) : error ? (
            <Alert color="red">{error.message}</Alert>
          ) : mine.length === 0 ? (
            <Paper withBorder p="xl" radius="lg" bg="dark.7">
              <Stack align="center" gap={4}>
                <AudioLines size={32} color="var(--mantine-color-violet-4)" aria-hidden />
                <Text fw={600}>No voices of your own yet</Text>
                <Text size="sm" c="dimmed" ta="center">
                  Upload 5–30 s of one person speaking clearly, or use a preset below.
                </Text>
              </Stack>
            </Paper>
          ) : (
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {mine.map((v) => (
                <VoiceCard key={v.id} voice={v} onDelete={() => setDeleting(v)} />
              ))}
            </SimpleGrid>
          )}
          <Title order={2} size="h4" mt="md">
            Voice Library presets
          </Title>
          {presets.length === 0 && data ? (
            <Text c="dimmed" size="sm">
              No presets are installed on this service.
            </Text>
          ) : (
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              {presets.map((v) => (
                <VoiceCard key={v.id} voice={v} />
              ))}
            </SimpleGrid>
          )}
        </Stack>
      </SimpleGrid>
      <Modal opened={!!deleting} onClose={() => setDeleting(null)} title={`Delete “${deleting?.name}”?`} centered>
        <Stack>
          <Text size="sm">Characters using this voice lose it. This can't be undone.</Text>
          {problem?.form && <Alert color="red">{problem.form}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(null)} data-autofocus>
              Keep it
            </Button>
            <Button
              color="red"
              onClick={async () => {
                if (!deleting) return;
                const r = await remove({ input: { id: deleting.id } });
                const found = problemOf(r.error, r.data?.voiceDelete);
                if (found) {
                  if (isSessionProblem(found)) setSessionLost(true);
                  setProblem({ ...found, form: found.form ?? Object.values(found.fields).join(" ") });
                  return;
                }
                setDeleting(null);
                refresh();
              }}
            >
              Delete voice
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
