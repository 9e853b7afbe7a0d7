import { Alert, Badge, Button, Card, Center, Group, Loader, Paper, SimpleGrid, Stack, Text, TextInput, Title } from "@mantine/core";
import { Check, Mail, Plus, Users, X } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate } from "react-router";
import { useMutation, useQuery } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { when } from "../app/labels";
import { ROLE_LABELS } from "../app/libraries";
import { useSession } from "../app/session";
import { TEAM_TYPENAMES } from "../app/teams";
import { graphql } from "../gql";
import type { TeamsPageQuery } from "../gql/graphql";

export const TeamsPageDocument = graphql(`
  query TeamsPage {
    teams {
      id
      name
      handle
      viewerRole
      members {
        id
      }
    }
    myInvitations {
      id
      teamName
      teamHandle
      invitedBy
      role
      createdAt
    }
  }
`);

const TeamCreateDocument = graphql(`
  mutation TeamCreate($input: TeamCreateInput!) {
    teamCreate(input: $input) {
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

const InvitationAcceptDocument = graphql(`
  mutation TeamInvitationAccept($input: TeamInvitationIdInput!) {
    teamInvitationAccept(input: $input) {
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

const InvitationDeclineDocument = graphql(`
  mutation TeamInvitationDecline($input: TeamInvitationIdInput!) {
    teamInvitationDecline(input: $input) {
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

type Invitation = TeamsPageQuery["myInvitations"][number];

export const HANDLE_HINT = "Lower-case letters, digits and hyphens; it names the team in mentions: [@Hero@studio-nine].";

/** A handle proposed from a name: "Studio Nine!" → "studio-nine". */
export function handleFrom(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 40);
}

/** A new team: its name, and a handle proposed from it until the creator types their own.
 * The service's refusals (a handle taken or malformed, a name too long) show at the field. */
function CreateTeamForm() {
  const navigate = useNavigate();
  const { setSessionLost } = useSession();
  const [name, setName] = useState("");
  const [handle, setHandle] = useState("");
  const [handleTouched, setHandleTouched] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [state, create] = useMutation(TeamCreateDocument);
  const shownHandle = handleTouched ? handle : handleFrom(name);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const fields: Record<string, string> = {};
    if (!name.trim()) fields.name = "Give the team a name.";
    if (!shownHandle) fields.handle = "Choose a handle.";
    else if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(shownHandle)) fields.handle = `“${shownHandle}” won't do: ${HANDLE_HINT}`;
    if (Object.keys(fields).length) return setProblem({ fields, form: null, codes: [] });
    setProblem(null);
    const r = await create({ input: { name: name.trim(), handle: shownHandle } }, { additionalTypenames: TEAM_TYPENAMES });
    const found = pick(problemOf(r.error, r.data?.teamCreate), ["name", "handle"]);
    if (found && (found.form || Object.keys(found.fields).length)) {
      if (isSessionProblem(found)) setSessionLost(true);
      return setProblem(found);
    }
    navigate(`/teams/${encodeURIComponent(shownHandle)}?created=1`);
  };

  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="create-team-title">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Stack gap={2}>
            <Title order={2} size="h3" id="create-team-title">
              Create a team
            </Title>
            <Text size="sm" c="dimmed">
              A team shares one library: members call up its elements in their prompts, editors add and change them.
            </Text>
          </Stack>
          <TextInput
            label="Team name"
            placeholder="Studio Nine"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={problem?.fields.name}
            maxLength={60}
            required
          />
          <TextInput
            label="Handle"
            description={HANDLE_HINT}
            placeholder="studio-nine"
            value={shownHandle}
            onChange={(e) => {
              setHandleTouched(true);
              setHandle(e.currentTarget.value);
            }}
            error={problem?.fields.handle}
            leftSection={<Text size="sm" c="dimmed">@</Text>}
            maxLength={40}
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
            required
          />
          {problem?.form && (
            <Alert color="red" role="alert">
              {problem.form}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button type="submit" leftSection={<Plus size={16} aria-hidden />} loading={state.fetching}>
              Create team
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

/** One invitation to the viewer: Accept opens the team's page, Decline drops it. */
function InvitationRow({ invitation, onDone }: { invitation: Invitation; onDone: () => void }) {
  const navigate = useNavigate();
  const { setSessionLost } = useSession();
  const [accepting, accept] = useMutation(InvitationAcceptDocument);
  const [declining, decline] = useMutation(InvitationDeclineDocument);
  const [problem, setProblem] = useState<string | null>(null);

  const answer = async (yes: boolean) => {
    setProblem(null);
    const input = { invitation: invitation.id };
    const r = yes
      ? await accept({ input }, { additionalTypenames: TEAM_TYPENAMES })
      : await decline({ input }, { additionalTypenames: TEAM_TYPENAMES });
    const payload = r.data && ("teamInvitationAccept" in r.data ? r.data.teamInvitationAccept : r.data.teamInvitationDecline);
    const found = problemOf(r.error, payload);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      setProblem([found.form, ...Object.values(found.fields)].filter(Boolean).join(" "));
      return;
    }
    onDone();
    if (yes) navigate(`/teams/${encodeURIComponent(invitation.teamHandle)}?joined=1`);
  };

  return (
    <Paper component="li" withBorder p="md" radius="md" bg="dark.6" aria-label={`Invitation to ${invitation.teamName}`}>
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Stack gap={2} style={{ minWidth: 0 }}>
          <Group gap="xs" wrap="nowrap">
            <Text fw={600} truncate="end">
              {invitation.teamName}
            </Text>
            <Badge variant="light" color="violet" style={{ flexShrink: 0 }}>
              {ROLE_LABELS[invitation.role]}
            </Badge>
          </Group>
          <Text size="xs" c="dimmed">
            {invitation.invitedBy ? `${invitation.invitedBy} invited you` : "You were invited"} · {when(invitation.createdAt)}
          </Text>
        </Stack>
        <Group gap="xs" wrap="nowrap">
          <Button
            size="sm"
            variant="default"
            leftSection={<X size={14} aria-hidden />}
            loading={declining.fetching}
            disabled={accepting.fetching}
            onClick={() => answer(false)}
            aria-label={`Decline the invitation to ${invitation.teamName}`}
          >
            Decline
          </Button>
          <Button
            size="sm"
            leftSection={<Check size={14} aria-hidden />}
            loading={accepting.fetching}
            disabled={declining.fetching}
            onClick={() => answer(true)}
            aria-label={`Accept the invitation to ${invitation.teamName}`}
          >
            Accept
          </Button>
        </Group>
      </Group>
      {problem && (
        <Alert color="red" role="alert" mt="sm" py="xs">
          {problem}
        </Alert>
      )}
    </Paper>
  );
}

export default function Teams() {
  const [{ data, error, fetching }, reload] = useQuery({
    query: TeamsPageDocument,
    context: TEAMS_CONTEXT,
  });
  const refresh = () => reload({ requestPolicy: "network-only" });
  const teams = data?.teams ?? [];
  const invitations = data?.myInvitations ?? [];

  return (
    <Stack gap="xl" py="md">
      <Stack gap={2}>
        <Title order={1}>Teams</Title>
        <Text c="dimmed" size="sm">
          Share a library of elements with the people you make videos with.
        </Text>
      </Stack>
      {error && !data && (
        <Alert color="red" role="alert" title="Your teams could not load">
          {error.message}. Reload the page to try again.
        </Alert>
      )}
      {invitations.length > 0 && (
        <Stack gap="sm" component="section" aria-labelledby="invitations-title">
          <Group gap="xs">
            <Mail size={18} color="var(--mantine-color-violet-4)" aria-hidden />
            <Title order={2} size="h3" id="invitations-title">
              Invitations
            </Title>
            <Badge variant="filled" color="violet" circle aria-label={`${invitations.length} pending`}>
              {invitations.length}
            </Badge>
          </Group>
          <Stack gap="xs" component="ul" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {invitations.map((inv) => (
              <InvitationRow key={inv.id} invitation={inv} onDone={refresh} />
            ))}
          </Stack>
        </Stack>
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }} spacing="xl" style={{ alignItems: "start" }}>
        <Stack gap="sm" component="section" aria-labelledby="my-teams-title">
          <Title order={2} size="h3" id="my-teams-title">
            My teams
          </Title>
          {!data && fetching ? (
            <Center p="lg">
              <Loader aria-label="Loading your teams" />
            </Center>
          ) : teams.length === 0 ? (
            <Paper withBorder p="xl" radius="lg" bg="dark.7">
              <Stack align="center" gap="xs">
                <Users size={36} color="var(--mantine-color-violet-4)" aria-hidden />
                <Text fw={600}>You're not in a team yet</Text>
                <Text size="sm" c="dimmed" ta="center" maw={380}>
                  Create one and invite people by their username, or accept an invitation when someone adds you.
                </Text>
              </Stack>
            </Paper>
          ) : (
            <Stack gap="sm" component="ul" aria-label="My teams" style={{ listStyle: "none", padding: 0, margin: 0 }}>
              {teams.map((t) => (
                <li key={t.id}>
                  <Card
                    component={Link}
                    to={`/teams/${encodeURIComponent(t.handle)}`}
                    withBorder
                    radius="lg"
                    bg="dark.7"
                    padding="md"
                    className="element-card"
                    aria-label={`${t.name}, ${ROLE_LABELS[t.viewerRole]}, ${t.members.length} member${t.members.length === 1 ? "" : "s"}`}
                  >
                    <Group justify="space-between" wrap="nowrap" gap="sm">
                      <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
                        <Center w={40} h={40} bg="dark.5" style={{ borderRadius: "50%", flexShrink: 0 }}>
                          <Users size={18} aria-hidden />
                        </Center>
                        <Stack gap={0} style={{ minWidth: 0 }}>
                          <Text fw={600} truncate="end">
                            {t.name}
                          </Text>
                          <Text size="xs" c="dimmed" truncate="end">
                            @{t.handle} · {t.members.length} member{t.members.length === 1 ? "" : "s"}
                          </Text>
                        </Stack>
                      </Group>
                      <Badge variant="light" color={t.viewerRole === "OWNER" ? "violet" : "gray"} style={{ flexShrink: 0, overflow: "visible" }}>
                        {ROLE_LABELS[t.viewerRole]}
                      </Badge>
                    </Group>
                  </Card>
                </li>
              ))}
            </Stack>
          )}
        </Stack>
        <CreateTeamForm />
      </SimpleGrid>
    </Stack>
  );
}

const TEAMS_CONTEXT = { additionalTypenames: TEAM_TYPENAMES };
