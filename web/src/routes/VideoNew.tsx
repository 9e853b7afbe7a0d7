import {
  ActionIcon,
  Alert,
  Badge,
  Box,
  Button,
  Checkbox,
  Group,
  NumberInput,
  Paper,
  RangeSlider,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Textarea,
  Title,
} from "@mantine/core";
import { ArrowLeft, Check, Play, Users } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useNavigate, useSearchParams } from "react-router";
import { useMutation } from "urql";

import { isSessionProblem, problemOf, type Problem } from "../app/errors";
import { createBlockedReason, libraryArgument, librarySearch, qualifierOf, useLibraries } from "../app/libraries";
import { useSession } from "../app/session";
import { FileDrop, VIDEO_ACCEPT } from "../components/FileDrop";
import { graphql } from "../gql";

const VideoCreateDocument = graphql(`
  mutation VideoElementCreate($input: VideoElementCreateInput!) {
    videoElementCreate(input: $input) {
      ... on ElementResult {
        element {
          id
          status
          progress
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

export const VIDEO_CONSENT =
  "I may use this person's likeness and voice: it is me, or they agreed to it.";
const MIN_WINDOW = 3;
const MAX_WINDOW = 8;

const round = (n: number) => Math.round(n * 10) / 10;

/** A character from 3–8 s of a video: upload, drag the window on the player, consent, name;
 * then the element page follows its processing. */
export default function VideoNew() {
  const navigate = useNavigate();
  const { me, refresh, setSessionLost } = useSession();
  // The library the character goes to (?library=<team handle>; none: the viewer's own).
  const [params] = useSearchParams();
  const qualifier = qualifierOf(params.get("library"));
  const { current: target } = useLibraries(qualifier);
  const teamTarget = target?.kind === "TEAM" ? target : null;
  const blockedReason = teamTarget ? createBlockedReason(teamTarget) : me && !me.canCreateElements ? me.elementQuotaReason : null;
  const [file, setFile] = useState<File | null>(null);
  const [url, setUrl] = useState<string | null>(null);
  const [duration, setDuration] = useState(0);
  const [range, setRange] = useState<[number, number]>([0, 5]);
  const [consent, setConsent] = useState(false);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [state, create] = useMutation(VideoCreateDocument);
  const player = useRef<HTMLVideoElement>(null);

  useEffect(() => () => void (url && URL.revokeObjectURL(url)), [url]);

  const windowLength = round(range[1] - range[0]);
  const windowHint =
    windowLength < MIN_WINDOW || windowLength > MAX_WINDOW
      ? `${windowLength} s selected: the window must last ${MIN_WINDOW}–${MAX_WINDOW} s.`
      : `${windowLength} s selected (${MIN_WINDOW}–${MAX_WINDOW} s).`;

  const playWindow = () => {
    const v = player.current;
    if (!v) return;
    v.currentTime = range[0];
    void v.play();
    const stop = () => {
      if (v.currentTime >= range[1]) {
        v.pause();
        v.removeEventListener("timeupdate", stop);
      }
    };
    v.addEventListener("timeupdate", stop);
  };

  const submit = async () => {
    const local: Record<string, string> = {};
    if (!file) local.video = "Choose a video first.";
    if (!consent) local.consentStatement = "Confirm you may use this person's likeness and voice.";
    if (!name.trim()) local.name = "Give the character a name.";
    if (Object.keys(local).length) return setProblem({ fields: local, form: null, codes: [] });
    setProblem(null);
    const result = await create({
      input: {
        name: name.trim(),
        video: file!,
        trimStart: range[0],
        trimEnd: range[1],
        consentStatement: VIDEO_CONSENT,
        description: description.trim(),
        library: libraryArgument(qualifier),
      },
    });
    const payload = result.data?.videoElementCreate;
    const found = problemOf(result.error, payload);
    if (found) {
      if (isSessionProblem(found)) {
        setSessionLost(true);
        found.form = "Your session ended. Sign in again, then press Create again: everything here is kept.";
      }
      return setProblem(found);
    }
    if (payload?.__typename === "ElementResult") {
      refresh();
      navigate(`/elements/${encodeURIComponent(payload.element.id)}?created=1`);
    }
  };

  const fields = problem?.fields ?? {};
  const trimError = fields.trimEnd ?? fields.trimStart;
  const known = ["video", "trimEnd", "trimStart", "consentStatement", "name", "description"];
  const stray = [problem?.form, ...Object.entries(fields).filter(([f]) => !known.includes(f)).map(([, m]) => m)]
    .filter(Boolean)
    .join(" ");

  return (
    <Stack gap="lg" py="md" maw={1100} mx="auto">
      <Group gap="sm">
        <ActionIcon variant="subtle" onClick={() => navigate(`/library${librarySearch(qualifier)}`)} aria-label="Back to the library">
          <ArrowLeft size={18} />
        </ActionIcon>
        <Title order={1}>Character from a video</Title>
        {teamTarget && (
          <Badge variant="light" color="violet" size="lg" leftSection={<Users size={12} aria-hidden />} aria-label={`In ${teamTarget.name}'s library`}>
            {teamTarget.name}
          </Badge>
        )}
      </Group>
      {target === null && (
        <Alert color="orange" title="This library isn't available" role="alert">
          There is no team “{qualifier}” among yours: it may have been deleted, or you are no longer a member.
        </Alert>
      )}
      {blockedReason && (
        <Alert color="orange" role="alert" title="You can't create elements right now">
          {blockedReason}
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="xl">
        <Stack gap="md">
          {url ? (
            <Box className="media-frame contain" style={{ aspectRatio: "16 / 9", animation: "none" }}>
              <video
                ref={player}
                src={url}
                controls
                playsInline
                aria-label="The uploaded video"
                onLoadedMetadata={(e) => {
                  const d = e.currentTarget.duration;
                  setDuration(d);
                  setRange([0, round(Math.min(d, 5))]);
                }}
              />
            </Box>
          ) : null}
          <FileDrop
            label={file ? "Replace the video" : "Video"}
            hint={file ? file.name : "MP4, MOV or WebM of one person, face visible; you'll pick 3–8 s of it"}
            accept={VIDEO_ACCEPT}
            error={fields.video}
            onFiles={(files) => {
              setFile(files[0]);
              setUrl(URL.createObjectURL(files[0]));
              setProblem(null);
              if (!name) setName(files[0].name.replace(/\.[^.]+$/, "").slice(0, 40));
            }}
          />
          {url && duration > 0 && (
            <Paper withBorder p="md" radius="md" bg="dark.7">
              <Stack gap="sm">
                <Group justify="space-between">
                  <Text fw={600} id="trim-label">
                    Trim window
                  </Text>
                  <Button size="xs" variant="light" leftSection={<Play size={14} />} onClick={playWindow}>
                    Play the window
                  </Button>
                </Group>
                <RangeSlider
                  min={0}
                  max={round(duration)}
                  step={0.1}
                  minRange={0.5}
                  value={range}
                  onChange={(v) => {
                    setRange([round(v[0]), round(v[1])]);
                    if (player.current) player.current.currentTime = v[0];
                  }}
                  label={(v) => `${v.toFixed(1)} s`}
                  thumbFromLabel="Window start"
                  thumbToLabel="Window end"
                  aria-labelledby="trim-label"
                />
                <Group grow>
                  <NumberInput
                    label="Start (s)"
                    min={0}
                    max={round(duration)}
                    step={0.1}
                    decimalScale={1}
                    value={range[0]}
                    onChange={(v) => setRange([round(Number(v) || 0), range[1]])}
                  />
                  <NumberInput
                    label="End (s)"
                    min={0}
                    max={round(duration)}
                    step={0.1}
                    decimalScale={1}
                    value={range[1]}
                    onChange={(v) => setRange([range[0], round(Number(v) || 0)])}
                    error={trimError}
                  />
                </Group>
                <Text size="sm" c={windowLength < MIN_WINDOW || windowLength > MAX_WINDOW ? "orange.4" : "dimmed"} aria-live="polite">
                  {windowHint}
                </Text>
              </Stack>
            </Paper>
          )}
        </Stack>
        <Paper withBorder p={{ base: "md", sm: "xl" }} radius="lg" bg="dark.7">
          <Stack gap="md">
            <TextInput
              label="Name"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={fields.name}
              maxLength={40}
            />
            <Textarea
              label="Description"
              description="Optional, up to 500 characters"
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
              error={fields.description}
              autosize
              minRows={2}
              maxLength={500}
            />
            <Checkbox
              label={VIDEO_CONSENT}
              checked={consent}
              onChange={(e) => setConsent(e.currentTarget.checked)}
              error={fields.consentStatement}
            />
            <Text size="xs" c="dimmed">
              The clip's keyframes become the element's images and its speech becomes the
              character's native voice (you can keep, replace or remove it afterwards).
            </Text>
            {stray && (
              <Alert color="red" role="alert">
                {stray}
              </Alert>
            )}
            <Button onClick={submit} loading={state.fetching} leftSection={<Check size={16} />} size="md">
              Create character
            </Button>
            {state.fetching && (
              <Text size="sm" c="dimmed" aria-live="polite">
                Uploading the video…
              </Text>
            )}
          </Stack>
        </Paper>
      </SimpleGrid>
    </Stack>
  );
}
