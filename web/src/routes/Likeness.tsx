import { Alert, Badge, Button, Center, Group, Image, Loader, Paper, Progress, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { ScanFace } from "lucide-react";
import { useState } from "react";
import { useMutation, useQuery } from "urql";

import { isSessionProblem, problemOf, type Problem } from "../app/errors";
import { usePolling } from "../app/polling";
import { useSession } from "../app/session";
import { FileDrop, VIDEO_ACCEPT } from "../components/FileDrop";
import { graphql } from "../gql";
import type { LikenessConsoleQuery } from "../gql/graphql";

const LikenessConsoleDocument = graphql(`
  query LikenessConsole {
    myLikeness {
      id
      status
      progress
      failureCode
      failureMessage
    }
    likenessMatches(first: 100) {
      edges {
        node {
          id
          state
          elementName
          elementStatus
          elementOwnerName
          elementThumbnailUrl
          usage {
            jobs
            sharedWorks
            recreations
          }
        }
      }
    }
    likenessGrants(first: 100) {
      edges {
        node {
          id
          everyone
          granteeName
        }
      }
    }
  }
`);

const StartDocument = graphql(`
  mutation LikenessChallengeStart {
    likenessChallengeStart {
      ... on LikenessChallenge {
        id
        phrase
        expiresAt
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

const ClaimDocument = graphql(`
  mutation LikenessClaim($input: LikenessClaimInput!) {
    likenessClaim(input: $input) {
      ... on Likeness {
        id
        status
        progress
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

const AllowUserDocument = graphql(`
  mutation LikenessAllowUser($input: LikenessMatchInput!) {
    likenessAllowUser(input: $input) {
      ... on LikenessGrant {
        id
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

const AllowEveryoneDocument = graphql(`
  mutation LikenessAllowEveryone {
    likenessAllowEveryone {
      ... on LikenessGrant {
        id
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

const DeclineDocument = graphql(`
  mutation LikenessDecline($input: LikenessMatchInput!) {
    likenessDecline(input: $input) {
      ... on LikenessMatch {
        id
        state
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

const WithdrawDocument = graphql(`
  mutation LikenessGrantWithdraw($input: LikenessGrantInput!) {
    likenessGrantWithdraw(input: $input) {
      ... on LikenessWithdrawResult {
        heldAgain
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

type MatchRow = LikenessConsoleQuery["likenessMatches"]["edges"][number]["node"];

/** What each check failure means to the person recording, by its stable code. */
export const FAILURE_TITLES: Record<string, string> = {
  LIKENESS_DURATION: "The video must last 3–8 seconds",
  LIKENESS_NO_SPEECH: "No speech was heard",
  LIKENESS_PHRASE_MISMATCH: "The speech did not match the phrase",
  LIKENESS_MULTIPLE_FACES: "More than one person was seen",
  LIKENESS_NO_FACE: "Your face was not seen clearly enough",
  LIKENESS_STILL_IMAGE: "Nothing moved: this looks like a filmed photo",
  LIKENESS_ALREADY_CLAIMED: "This face is claimed by someone else: staff will review your claim",
  LIKENESS_CHECK_FAILED: "The video could not be checked",
};

const STATE_LABEL: Record<string, { label: string; color: string }> = {
  HELD: { label: "Held for you", color: "orange" },
  ALLOWED: { label: "Allowed", color: "green" },
  DECLINED: { label: "Declined · staff review", color: "red" },
};

function Claim({ onClaimed }: { onClaimed: () => void }) {
  const { setSessionLost } = useSession();
  const [challenge, setChallenge] = useState<{ id: string; phrase: string } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [, start] = useMutation(StartDocument);
  const [claimState, claim] = useMutation(ClaimDocument);

  const fail = (found: Problem) => {
    if (isSessionProblem(found)) setSessionLost(true);
    setProblem(found);
  };

  const begin = async () => {
    setProblem(null);
    const r = await start({});
    const payload = r.data?.likenessChallengeStart;
    const found = problemOf(r.error, payload);
    if (found) return fail(found);
    if (payload?.__typename === "LikenessChallenge") setChallenge({ id: payload.id, phrase: payload.phrase });
  };

  const send = async () => {
    if (!challenge) return;
    if (!file) return setProblem({ fields: { video: "Choose your video first." }, form: null, codes: [] });
    const r = await claim({ input: { challengeId: challenge.id, video: file } });
    const payload = r.data?.likenessClaim;
    const found = problemOf(r.error, payload);
    if (found) {
      if (found.codes.includes("CHALLENGE_EXPIRED")) setChallenge(null);
      return fail({ ...found, form: found.form ?? Object.values(found.fields).join(" ") });
    }
    onClaimed();
  };

  return (
    <Paper withBorder p="md" radius="lg" bg="dark.7">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Claim your likeness
        </Title>
        <Text size="sm" c="dimmed">
          Record a 3–8 s selfie video, alone, saying the phrase shown here. Other people's elements that show your
          face are then held until you allow them. The video is deleted after the check; only your face descriptors
          are kept.
        </Text>
        {challenge ? (
          <>
            <Text size="sm">Say, once, clearly:</Text>
            <Text fw={700} size="xl" aria-label="Phrase to say" data-testid="likeness-phrase">
              “{challenge.phrase}”
            </Text>
            <FileDrop
              label={file ? "Replace the video" : "Selfie video"}
              hint={file ? file.name : "MP4, MOV or WebM, 3–8 s, your face in view while you speak"}
              accept={VIDEO_ACCEPT}
              error={problem?.fields.video}
              onFiles={(files) => {
                setFile(files[0]);
                setProblem(null);
              }}
            />
            <Group>
              <Button onClick={send} loading={claimState.fetching}>
                Send for the check
              </Button>
              <Button variant="subtle" onClick={begin}>
                New phrase
              </Button>
            </Group>
          </>
        ) : (
          <Group>
            <Button leftSection={<ScanFace size={16} />} onClick={begin}>
              Show me a phrase
            </Button>
          </Group>
        )}
        {problem?.form && (
          <Alert color="red" role="alert">
            {problem.form}
          </Alert>
        )}
      </Stack>
    </Paper>
  );
}

function MatchCard({ match, act }: { match: MatchRow; act: (kind: "allow" | "decline", id: string) => void }) {
  const state = STATE_LABEL[match.state] ?? { label: match.state, color: "gray" };
  return (
    <Paper withBorder p="md" radius="lg" bg="dark.7" component="article" aria-label={`Element ${match.elementName}`}>
      <Group wrap="nowrap" align="flex-start">
        {match.elementThumbnailUrl && <Image src={match.elementThumbnailUrl} w={72} h={72} radius="md" alt="" />}
        <Stack gap={4} style={{ minWidth: 0, flex: 1 }}>
          <Text fw={600} truncate="end">
            {match.elementName}
          </Text>
          <Text size="xs" c="dimmed">
            by {match.elementOwnerName} · used in {match.usage.jobs} job{match.usage.jobs === 1 ? "" : "s"},{" "}
            {match.usage.sharedWorks} shared, {match.usage.recreations} recreations
          </Text>
          <Badge color={state.color} variant="light" w="fit-content">
            {state.label}
          </Badge>
          {match.state === "HELD" && (
            <Group gap="xs" mt={4}>
              <Button size="xs" onClick={() => act("allow", match.id)}>
                Allow this user
              </Button>
              <Button size="xs" variant="light" color="red" onClick={() => act("decline", match.id)}>
                Decline
              </Button>
            </Group>
          )}
        </Stack>
      </Group>
    </Paper>
  );
}

/** Likeness protection: claim your face, then decide on other people's elements that show it. */
export default function Likeness() {
  const { setSessionLost } = useSession();
  const [{ data, fetching, error }, reload] = useQuery({ query: LikenessConsoleDocument });
  const [, allowUser] = useMutation(AllowUserDocument);
  const [, allowEveryone] = useMutation(AllowEveryoneDocument);
  const [, decline] = useMutation(DeclineDocument);
  const [, withdraw] = useMutation(WithdrawDocument);
  const [problem, setProblem] = useState<string | null>(null);
  const refresh = () => reload({ requestPolicy: "network-only" });
  const likeness = data?.myLikeness ?? null;
  const processing = likeness?.status === "PROCESSING";

  usePolling(processing, async () => {
    const before = likeness?.progress;
    refresh();
    return before !== likeness?.progress;
  });

  const run = async (r: Promise<{ error?: unknown; data?: Record<string, unknown> | null }>, field: string) => {
    const result = await r;
    const found = problemOf(result.error as never, result.data?.[field] as object | undefined);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      setProblem(found.form ?? Object.values(found.fields).join(" "));
      return;
    }
    setProblem(null);
    refresh();
  };
  const act = (kind: "allow" | "decline", id: string) =>
    kind === "allow"
      ? run(allowUser({ input: { matchId: id } }), "likenessAllowUser")
      : run(decline({ input: { matchId: id } }), "likenessDecline");

  const matches = (data?.likenessMatches.edges ?? []).map((e) => e.node);
  const grants = (data?.likenessGrants.edges ?? []).map((e) => e.node);
  const canClaim = !likeness || likeness.status === "FAILED";

  return (
    <Stack gap="xl" py="md">
      <Stack gap={2}>
        <Title order={1}>Likeness</Title>
        <Text c="dimmed" size="sm">
          Where your face appears in other people's elements, and who may use it.
        </Text>
      </Stack>
      {fetching && !data ? (
        <Center p="lg">
          <Loader aria-label="Loading your likeness" />
        </Center>
      ) : error ? (
        <Alert color="red">{error.message}</Alert>
      ) : (
        <SimpleGrid cols={{ base: 1, md: 3 }} spacing="xl">
          <Stack gap="md">
            {likeness && (
              <Paper withBorder p="md" radius="lg" bg="dark.7" aria-label="Your likeness">
                <Stack gap="xs">
                  <Text fw={600}>Your likeness</Text>
                  {processing ? (
                    <>
                      <Text size="sm">Checking your video…</Text>
                      <Progress value={likeness.progress} aria-label="Check progress" />
                    </>
                  ) : likeness.status === "ACTIVE" ? (
                    <Badge color="green" variant="light">
                      Protecting you
                    </Badge>
                  ) : (
                    <Alert color={likeness.status === "REVIEW" ? "yellow" : "red"} role="alert" title={FAILURE_TITLES[likeness.failureCode] ?? "The check failed"}>
                      {likeness.failureMessage}
                    </Alert>
                  )}
                </Stack>
              </Paper>
            )}
            {canClaim && <Claim onClaimed={refresh} />}
          </Stack>
          <Stack gap="md" style={{ gridColumn: "span 2" }}>
            <Group justify="space-between">
              <Title order={2} size="h4">
                Elements that show you
              </Title>
              {likeness?.status === "ACTIVE" && !grants.some((g) => g.everyone) && (
                <Button size="xs" variant="light" onClick={() => run(allowEveryone({}), "likenessAllowEveryone")}>
                  Allow everyone
                </Button>
              )}
            </Group>
            {problem && (
              <Alert color="red" role="alert">
                {problem}
              </Alert>
            )}
            {matches.length === 0 ? (
              <Text c="dimmed" size="sm">
                No one else's element shows your face.
              </Text>
            ) : (
              <SimpleGrid cols={{ base: 1, sm: 2 }}>
                {matches.map((m) => (
                  <MatchCard key={m.id} match={m} act={act} />
                ))}
              </SimpleGrid>
            )}
            <Title order={2} size="h4" mt="md">
              Who may use your likeness
            </Title>
            {grants.length === 0 ? (
              <Text c="dimmed" size="sm">
                Nobody yet.
              </Text>
            ) : (
              <Stack gap="xs">
                {grants.map((g) => (
                  <Group key={g.id} justify="space-between" aria-label={`Permission for ${g.everyone ? "everyone" : g.granteeName}`}>
                    <Text>{g.everyone ? "Everyone" : g.granteeName}</Text>
                    <Button size="xs" variant="subtle" color="red" onClick={() => run(withdraw({ input: { grantId: g.id } }), "likenessGrantWithdraw")}>
                      Withdraw
                    </Button>
                  </Group>
                ))}
              </Stack>
            )}
          </Stack>
        </SimpleGrid>
      )}
    </Stack>
  );
}
