import {
  Alert,
  Badge,
  Button,
  Checkbox,
  Group,
  List,
  Paper,
  Radio,
  ScrollArea,
  Stack,
  Text,
  TextInput,
} from "@mantine/core";
import { AudioLines, TriangleAlert } from "lucide-react";
import { useState } from "react";
import { useMutation, useQuery } from "urql";

import { isSessionProblem, problemOf, type Problem } from "../app/errors";
import { seconds } from "../app/labels";
import { useSession } from "../app/session";
import { graphql } from "../gql";
import { AUDIO_ACCEPT, FileDrop } from "./FileDrop";
import { PlayButton } from "./PlayButton";

export const CONSENT_STATEMENT =
  "I have the right to use this voice: it is mine, or its owner agreed to its use here.";

export const VoiceUploadDocument = graphql(`
  mutation VoiceUpload($input: VoiceSampleInput!) {
    voiceUpload(input: $input) {
      ... on VoiceUploadResult {
        voice {
          id
          name
          durationMs
          audioUrl
        }
        warnings {
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

export const VoiceListDocument = graphql(`
  query VoiceList($first: Int!, $library: String) {
    voices(first: $first, library: $library) {
      edges {
        node {
          id
          name
          durationMs
          language
          styleTags
          source
          isPreset
          status
          audioUrl
          createdAt
          quality {
            warnings {
              code
              message
            }
          }
        }
      }
    }
  }
`);

export interface ChosenVoice {
  id: string;
  name: string;
  audioUrl: string | null;
  durationMs: number;
  warnings: { code: string; message: string }[];
}

/** Upload a 5–30 s sample with the consent statement; the service's quality warnings are
 * shown once it is in. Refusals (too short, too long, no speech…) show at the file. */
export function VoiceUploader({
  onUploaded,
  submitLabel = "Upload voice",
  library = null,
}: {
  onUploaded: (v: ChosenVoice) => void;
  submitLabel?: string;
  /** The library the sample goes to (a team's handle; null: the viewer's own). */
  library?: string | null;
}) {
  const { setSessionLost } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [name, setName] = useState("");
  const [consent, setConsent] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [state, upload] = useMutation(VoiceUploadDocument);

  const submit = async () => {
    if (!file) return setProblem({ fields: { file: "Choose a voice sample first." }, form: null, codes: [] });
    if (!consent)
      return setProblem({ fields: { consentStatement: "Confirm you may use this voice." }, form: null, codes: [] });
    setProblem(null);
    const result = await upload({
      input: { file, name: name.trim() || file.name.replace(/\.[^.]+$/, ""), consentStatement: CONSENT_STATEMENT, library },
    });
    const found = problemOf(result.error, result.data?.voiceUpload);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      return setProblem(found);
    }
    const done = result.data?.voiceUpload;
    if (done?.__typename === "VoiceUploadResult") {
      onUploaded({ ...done.voice, warnings: done.warnings });
      setFile(null);
      setName("");
      setConsent(false);
    }
  };

  const fileError = problem?.fields.file ?? null;
  return (
    <Stack gap="sm">
      <FileDrop
        label="Voice sample"
        hint={file ? `${file.name} · choose another to replace it` : "5–30 s of one person speaking clearly (WAV, MP3, M4A, OGG)"}
        accept={AUDIO_ACCEPT}
        error={fileError}
        onFiles={(files) => {
          setFile(files[0]);
          setProblem(null);
        }}
      />
      <TextInput
        label="Voice name"
        placeholder={file ? file.name.replace(/\.[^.]+$/, "") : "e.g. Warm narrator"}
        value={name}
        onChange={(e) => setName(e.currentTarget.value)}
        error={problem?.fields.name}
      />
      <Checkbox
        label={CONSENT_STATEMENT}
        checked={consent}
        onChange={(e) => setConsent(e.currentTarget.checked)}
        error={problem?.fields.consentStatement}
      />
      {problem?.form && (
        <Alert color="red" role="alert">
          {problem.form}
        </Alert>
      )}
      <Group>
        <Button onClick={submit} loading={state.fetching} leftSection={<AudioLines size={16} />}>
          {submitLabel}
        </Button>
      </Group>
    </Stack>
  );
}

export function QualityWarnings({ warnings }: { warnings: { code: string; message: string }[] }) {
  if (!warnings.length) return null;
  return (
    <Alert color="yellow" variant="light" icon={<TriangleAlert size={16} />} title="Quality warnings">
      <List size="sm">
        {warnings.map((w) => (
          <List.Item key={w.code}>{w.message}</List.Item>
        ))}
      </List>
    </Alert>
  );
}

/** The Voice Library: presets and the viewer's own, each playable, one to choose. */
export function VoiceLibraryPicker({
  value,
  onChange,
  library = null,
}: {
  value: string | null;
  onChange: (v: ChosenVoice) => void;
  /** Whose voices besides the presets: a team's handle, or null for the viewer's own. */
  library?: string | null;
}) {
  const [{ data, fetching, error }] = useQuery({ query: VoiceListDocument, variables: { first: 100, library } });
  if (error) return <Text c="red.5">{error.message}</Text>;
  if (fetching && !data) return <Text c="dimmed">Loading voices…</Text>;
  const voices = (data?.voices.edges ?? []).map((e) => e.node).filter((v) => v.status === "ACTIVE");
  if (!voices.length) return <Text c="dimmed">No voices yet: upload a sample instead.</Text>;
  return (
    <Radio.Group
      value={value}
      onChange={(id) => {
        const v = voices.find((x) => x.id === id);
        if (v) onChange({ id: v.id, name: v.name, audioUrl: v.audioUrl, durationMs: v.durationMs, warnings: v.quality?.warnings ?? [] });
      }}
      label="Voice Library"
      description="Presets and your own samples"
    >
      <ScrollArea.Autosize mah={360} mt="xs">
        <Stack gap="xs">
          {voices.map((v) => (
            <Paper key={v.id} withBorder p="xs" radius="md" bg={value === v.id ? "dark.5" : "dark.7"}>
              <Group justify="space-between" wrap="nowrap">
                <Group gap="sm" wrap="nowrap">
                  <PlayButton url={v.audioUrl} name={v.name} size="md" />
                  <Radio value={v.id} label={v.name} />
                </Group>
                <Group gap={6} wrap="nowrap">
                  <Badge variant="light" color={v.isPreset ? "gray" : "violet"}>
                    {v.isPreset ? "Preset" : "Yours"}
                  </Badge>
                  <Text size="xs" c="dimmed">
                    {seconds(v.durationMs)}
                  </Text>
                </Group>
              </Group>
            </Paper>
          ))}
        </Stack>
      </ScrollArea.Autosize>
    </Radio.Group>
  );
}
