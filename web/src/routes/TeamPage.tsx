import {
  ActionIcon,
  Alert,
  Badge,
  Button,
  Center,
  Group,
  Loader,
  Modal,
  NativeSelect,
  Paper,
  ScrollArea,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
  Grid,
} from "@mantine/core";
import { ArrowLeft, Crown, DoorOpen, Images, Pencil, Send, Trash2, TriangleAlert, UserMinus, Users } from "lucide-react";
import { useState } from "react";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { useMutation, useQuery, type CombinedError } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { day, when } from "../app/labels";
import { librarySearch, ROLE_HINTS, ROLE_LABELS, useLibraries } from "../app/libraries";
import { useSession } from "../app/session";
import { TEAM_TYPENAMES } from "../app/teams";
import { graphql } from "../gql";
import type { TeamPageQuery, TeamRole } from "../gql/graphql";

export const TeamPageDocument = graphql(`
  query TeamPage($handle: String!) {
    team(handle: $handle) {
      id
      name
      handle
      createdAt
      viewerRole
      viewerCan {
        manageMembers
        changeRoles
        manageOwners
        deleteTeam
        edit
        leave
      }
      members {
        id
        username
        role
        joinedAt
        isViewer
      }
      invitations {
        id
        invitee
        role
        status
        invitedBy
        createdAt
      }
    }
  }
`);

const TeamUpdateDocument = graphql(`
  mutation TeamUpdate($input: TeamUpdateInput!) {
    teamUpdate(input: $input) {
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

const TeamDeleteDocument = graphql(`
  mutation TeamDelete($input: TeamIdInput!) {
    teamDelete(input: $input) {
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

const TeamInviteDocument = graphql(`
  mutation TeamInvite($input: TeamInviteInput!) {
    teamInvite(input: $input) {
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

const InvitationCancelDocument = graphql(`
  mutation TeamInvitationCancel($input: TeamInvitationIdInput!) {
    teamInvitationCancel(input: $input) {
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

const RoleChangeDocument = graphql(`
  mutation TeamMemberRoleChange($input: TeamMemberRoleChangeInput!) {
    teamMemberRoleChange(input: $input) {
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

const MemberRemoveDocument = graphql(`
  mutation TeamMemberRemove($input: TeamMemberIdInput!) {
    teamMemberRemove(input: $input) {
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

const TeamLeaveDocument = graphql(`
  mutation TeamLeave($input: TeamIdInput!) {
    teamLeave(input: $input) {
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

const OwnershipTransferDocument = graphql(`
  mutation TeamOwnershipTransfer($input: TeamOwnershipTransferInput!) {
    teamOwnershipTransfer(input: $input) {
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

type Team = NonNullable<TeamPageQuery["team"]>;
type Member = Team["members"][number];

const ROLES: TeamRole[] = ["VIEWER", "EDITOR", "ADMIN", "OWNER"];

/** What the service answered a team mutation: a Problem, or null when it went through. */
type Answer = { error?: CombinedError; data?: Record<string, unknown> | null };

/** Runs team mutations one at a time and keeps the last refusal to show where it happened. */
function useTeamAction() {
  const { setSessionLost } = useSession();
  const [busy, setBusy] = useState<string | null>(null);
  const [problem, setProblem] = useState<{ at: string; problem: Problem } | null>(null);
  const run = async (at: string, send: () => Promise<Answer>, field: string): Promise<boolean> => {
    setBusy(at);
    setProblem(null);
    const r = await send();
    setBusy(null);
    const payload = r.data?.[field] as object | null | undefined;
    const found = problemOf(r.error, payload);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      setProblem({ at, problem: found });
      return false;
    }
    return true;
  };
  const problemAt = (at: string) => (problem?.at === at ? problem.problem : null);
  return { run, busy, problemAt, clear: () => setProblem(null) };
}

function sentence(problem: Problem | null): string | null {
  if (!problem) return null;
  return [problem.form, ...Object.values(problem.fields)].filter(Boolean).join(" ") || null;
}

/** The refusal of an action, with what to do next for the ones a person can act on. */
function Refusal({ problem }: { problem: Problem | null }) {
  const text = sentence(problem);
  if (!problem || !text) return null;
  if (problem.codes.includes("LAST_OWNER"))
    return (
      <Alert color="orange" role="alert" title="A team needs an owner" icon={<Crown size={18} aria-hidden />}>
        {text} Make another member an owner first (Transfer ownership), or delete the team.
      </Alert>
    );
  return (
    <Alert color="red" role="alert" icon={<TriangleAlert size={18} aria-hidden />}>
      {text}
    </Alert>
  );
}

function NoSuchTeam() {
  return (
    <Center h="50vh">
      <Stack align="center" gap="sm" maw={460}>
        <Users size={44} color="var(--mantine-color-gray-5)" aria-hidden />
        <Title order={1} size="h2" ta="center">
          No such team
        </Title>
        <Text c="dimmed" ta="center">
          It may have been deleted, or you are not a member of it (any more).
        </Text>
        <Button component={Link} to="/teams">
          Back to your teams
        </Button>
      </Stack>
    </Center>
  );
}

export default function TeamPage() {
  const { handle = "" } = useParams();
  const [params] = useSearchParams();
  const [{ data, fetching, error }, reload] = useQuery({
    query: TeamPageDocument,
    variables: { handle },
    context: TEAM_CONTEXT,
  });
  const refresh = () => reload({ requestPolicy: "network-only" });
  if (fetching && !data)
    return (
      <Center h="50vh">
        <Loader aria-label="Loading the team" />
      </Center>
    );
  if (error && !data)
    return (
      <Alert color="red" role="alert" m="md" title="The team could not load">
        {error.message}. Reload the page to try again.
      </Alert>
    );
  if (!data?.team) return <NoSuchTeam />;
  return <TeamView team={data.team} refresh={refresh} created={params.get("created") === "1"} joined={params.get("joined") === "1"} />;
}

function TeamView({ team, refresh, created, joined }: { team: Team; refresh: () => void; created: boolean; joined: boolean }) {
  const can = team.viewerCan;
  const members = [...team.members].sort(
    (a, b) => ROLES.indexOf(b.role) - ROLES.indexOf(a.role) || a.username.localeCompare(b.username),
  );
  return (
    <Stack gap="xl" py="md">
      <Group justify="space-between" wrap="wrap" gap="sm">
        <Group gap="sm" wrap="nowrap" style={{ minWidth: 0 }}>
          <ActionIcon variant="subtle" component={Link} to="/teams" aria-label="Back to your teams">
            <ArrowLeft size={18} />
          </ActionIcon>
          <Stack gap={0} style={{ minWidth: 0 }}>
            <Group gap="sm" wrap="wrap" align="center">
              <Title order={1} style={{ overflowWrap: "anywhere" }}>
                {team.name}
              </Title>
              <Badge
                variant="light"
                color={team.viewerRole === "OWNER" ? "violet" : "gray"}
                size="lg"
                style={{ flexShrink: 0, overflow: "visible" }}
                aria-label={`Your role: ${ROLE_LABELS[team.viewerRole]}`}
              >
                {ROLE_LABELS[team.viewerRole]}
              </Badge>
            </Group>
            <Text size="sm" c="dimmed">
              @{team.handle} · since {day(team.createdAt)}
            </Text>
          </Stack>
        </Group>
        <Button component={Link} to={`/library${librarySearch(team.handle)}`} leftSection={<Images size={16} aria-hidden />}>
          Open the team library
        </Button>
      </Group>
      {created && (
        <Alert color="teal" variant="light" role="status">
          Team created. Invite people below; in prompts, its elements are called up as [@Name@{team.handle}] when a name is also elsewhere.
        </Alert>
      )}
      {joined && (
        <Alert color="teal" variant="light" role="status">
          You joined {team.name} as {ROLE_LABELS[team.viewerRole].toLowerCase()}: {ROLE_HINTS[team.viewerRole].toLowerCase()}.
        </Alert>
      )}
      <Grid gap="xl" align="flex-start">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack gap="xl">
            <MembersTable team={team} members={members} refresh={refresh} />
            {can.manageMembers && <PendingInvitations team={team} refresh={refresh} />}
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack gap="xl">
            {can.manageMembers && <InviteForm team={team} refresh={refresh} />}
            <TeamSettings team={team} members={members} refresh={refresh} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}

function MembersTable({ team, members, refresh }: { team: Team; members: Member[]; refresh: () => void }) {
  const can = team.viewerCan;
  const { run, busy, problemAt } = useTeamAction();
  const [, changeRole] = useMutation(RoleChangeDocument);
  const [, remove] = useMutation(MemberRemoveDocument);
  const [removing, setRemoving] = useState<Member | null>(null);
  const roleOptions = ROLES.filter((r) => r !== "OWNER" || can.manageOwners).map((r) => ({ value: r, label: ROLE_LABELS[r] }));
  // Owners are changed and removed only by those who may manage owners.
  const mayTouch = (m: Member) => !m.isViewer && (m.role !== "OWNER" || can.manageOwners);

  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="members-title">
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={2} size="h3" id="members-title">
            Members
          </Title>
          <Text size="sm" c="dimmed">
            {members.length} member{members.length === 1 ? "" : "s"}
          </Text>
        </Group>
        <Refusal problem={problemAt("role")} />
        <ScrollArea type="auto">
          {/* Without the role pickers and Remove it fits a phone as it is; with them it scrolls. */}
          <Table verticalSpacing="sm" miw={can.manageMembers ? 440 : undefined} aria-label="Members">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Username</Table.Th>
                <Table.Th w={can.changeRoles ? 140 : 110}>Role</Table.Th>
                <Table.Th w={120}>Joined</Table.Th>
                {can.manageMembers && (
                  <Table.Th w={100}>
                    <VisuallyHidden>Actions</VisuallyHidden>
                  </Table.Th>
                )}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {members.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>
                    <Group gap={6} wrap="nowrap">
                      <Text fw={600} truncate="end">
                        {m.username}
                      </Text>
                      {m.isViewer && (
                        <Badge size="xs" variant="outline" color="gray" style={{ flexShrink: 0 }}>
                          you
                        </Badge>
                      )}
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    {can.changeRoles && mayTouch(m) ? (
                      <NativeSelect
                        size="xs"
                        aria-label={`Role of ${m.username}`}
                        data={roleOptions}
                        value={m.role}
                        disabled={busy === "role"}
                        onChange={async (e) => {
                          const role = e.currentTarget.value as TeamRole;
                          const ok = await run(
                            "role",
                            () => changeRole({ input: { member: m.id, role } }, { additionalTypenames: TEAM_TYPENAMES }),
                            "teamMemberRoleChange",
                          );
                          // Either way the table shows what the service holds now.
                          void ok;
                          refresh();
                        }}
                      />
                    ) : (
                      <Badge variant="light" color={m.role === "OWNER" ? "violet" : "gray"} style={{ overflow: "visible" }}>
                        {ROLE_LABELS[m.role]}
                      </Badge>
                    )}
                  </Table.Td>
                  <Table.Td>
                    <Text size="sm" c="dimmed" style={{ whiteSpace: "nowrap" }}>
                      {day(m.joinedAt)}
                    </Text>
                  </Table.Td>
                  {can.manageMembers && (
                  <Table.Td>
                    {mayTouch(m) && (
                      <Button
                        size="compact-sm"
                        variant="subtle"
                        color="red"
                        leftSection={<UserMinus size={14} aria-hidden />}
                        aria-label={`Remove ${m.username}`}
                        onClick={() => setRemoving(m)}
                      >
                        Remove
                      </Button>
                    )}
                  </Table.Td>
                  )}
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </ScrollArea>
        <Text size="xs" c="dimmed">
          {ROLES.slice()
            .reverse()
            .map((r) => `${ROLE_LABELS[r]}: ${ROLE_HINTS[r].charAt(0).toLowerCase()}${ROLE_HINTS[r].slice(1)}`)
            .join(". ")}
          .
        </Text>
      </Stack>
      <Modal opened={!!removing} onClose={() => setRemoving(null)} title={`Remove ${removing?.username ?? ""} from ${team.name}?`} centered>
        <Stack>
          <Text size="sm">
            They lose access to the team's library at once, including the elements they made there; the elements stay with the team.
          </Text>
          <Refusal problem={problemAt("remove")} />
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRemoving(null)} data-autofocus>
              Keep them
            </Button>
            <Button
              color="red"
              loading={busy === "remove"}
              onClick={async () => {
                if (!removing) return;
                const ok = await run(
                  "remove",
                  () => remove({ input: { member: removing.id } }, { additionalTypenames: TEAM_TYPENAMES }),
                  "teamMemberRemove",
                );
                if (ok) {
                  setRemoving(null);
                  refresh();
                }
              }}
            >
              Remove member
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}

function PendingInvitations({ team, refresh }: { team: Team; refresh: () => void }) {
  const { run, busy, problemAt } = useTeamAction();
  const [, cancel] = useMutation(InvitationCancelDocument);
  const pending = team.invitations.filter((i) => i.status === "PENDING");
  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="pending-title">
      <Stack gap="sm">
        <Title order={2} size="h3" id="pending-title">
          Pending invitations
        </Title>
        <Refusal problem={problemAt("cancel")} />
        {pending.length === 0 ? (
          <Text size="sm" c="dimmed">
            No one is waiting to join. Invite someone by their username: they accept on their Teams page.
          </Text>
        ) : (
          <Stack gap={0} component="ul" aria-label="Pending invitations" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {pending.map((inv) => (
              <Group
                key={inv.id}
                component="li"
                justify="space-between"
                wrap="nowrap"
                gap="sm"
                py="xs"
                style={{ borderBottom: "1px solid var(--mantine-color-dark-5)" }}
              >
                <Stack gap={2} style={{ minWidth: 0 }}>
                  <Group gap="xs" wrap="nowrap">
                    <Text size="sm" fw={600} truncate="end">
                      {inv.invitee}
                    </Text>
                    <Badge variant="light" color="gray" style={{ flexShrink: 0 }}>
                      {ROLE_LABELS[inv.role]}
                    </Badge>
                  </Group>
                  <Text size="xs" c="dimmed">
                    {inv.invitedBy ? `Invited by ${inv.invitedBy}` : "Invited"} · {when(inv.createdAt)}
                  </Text>
                </Stack>
                <Button
                  size="compact-sm"
                  variant="subtle"
                  color="gray"
                  loading={busy === "cancel"}
                  onClick={async () => {
                    const ok = await run(
                      "cancel",
                      () => cancel({ input: { invitation: inv.id } }, { additionalTypenames: TEAM_TYPENAMES }),
                      "teamInvitationCancel",
                    );
                    if (ok) refresh();
                  }}
                  aria-label={`Cancel the invitation of ${inv.invitee}`}
                >
                  Cancel
                </Button>
              </Group>
            ))}
          </Stack>
        )}
      </Stack>
    </Paper>
  );
}

function InviteForm({ team, refresh }: { team: Team; refresh: () => void }) {
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<TeamRole>("VIEWER");
  const [sent, setSent] = useState<string | null>(null);
  const [fieldProblem, setFieldProblem] = useState<Problem | null>(null);
  const { run, busy, problemAt } = useTeamAction();
  const [, invite] = useMutation(TeamInviteDocument);
  const roleOptions = ROLES.filter((r) => r !== "OWNER" || team.viewerCan.manageOwners).map((r) => ({ value: r, label: ROLE_LABELS[r] }));
  const problem = pick(problemAt("invite"), ["username", "role"]);
  const usernameError = fieldProblem?.fields.username ?? problem?.fields.username;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setSent(null);
    const who = username.trim();
    if (!who) return setFieldProblem({ fields: { username: "Type the username of the person to invite." }, form: null, codes: [] });
    setFieldProblem(null);
    const ok = await run(
      "invite",
      () => invite({ input: { team: team.id, username: who, role } }, { additionalTypenames: TEAM_TYPENAMES }),
      "teamInvite",
    );
    if (ok) {
      setSent(`${who} is invited as ${ROLE_LABELS[role].toLowerCase()}: they accept on their Teams page.`);
      setUsername("");
      refresh();
    }
  };

  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="invite-title">
      <form onSubmit={submit} noValidate>
        <Stack gap="md">
          <Title order={2} size="h3" id="invite-title">
            Invite someone
          </Title>
          <TextInput
            label="Username"
            placeholder="their username"
            value={username}
            onChange={(e) => setUsername(e.currentTarget.value)}
            error={usernameError}
            autoCapitalize="none"
            autoCorrect="off"
            spellCheck={false}
          />
          <NativeSelect
            label="Role"
            description={ROLE_HINTS[role]}
            data={roleOptions}
            value={role}
            onChange={(e) => setRole(e.currentTarget.value as TeamRole)}
            error={problem?.fields.role}
          />
          {problem?.form && <Refusal problem={{ ...problem, fields: {} }} />}
          {sent && (
            <Alert color="teal" variant="light" role="status" py="xs">
              {sent}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button type="submit" leftSection={<Send size={16} aria-hidden />} loading={busy === "invite"}>
              Invite
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

/** Rename, transfer, leave and delete: each shown only when viewerCan allows it. */
function TeamSettings({ team, members, refresh }: { team: Team; members: Member[]; refresh: () => void }) {
  const can = team.viewerCan;
  const navigate = useNavigate();
  const { run, busy, problemAt, clear } = useTeamAction();
  const [, update] = useMutation(TeamUpdateDocument);
  const [, del] = useMutation(TeamDeleteDocument);
  const [, leave] = useMutation(TeamLeaveDocument);
  const [, transfer] = useMutation(OwnershipTransferDocument);
  const { current: library } = useLibraries(team.handle);
  const [dialog, setDialog] = useState<"rename" | "transfer" | "leave" | "delete" | null>(null);
  const [name, setName] = useState(team.name);
  const [typed, setTyped] = useState("");
  const others = members.filter((m) => !m.isViewer);
  const [heir, setHeir] = useState<string>("");
  const open = (d: typeof dialog) => {
    clear();
    setName(team.name);
    setTyped("");
    setHeir(others.find((m) => m.role !== "OWNER")?.id ?? others[0]?.id ?? "");
    setDialog(d);
  };
  const close = () => setDialog(null);
  const renameProblem = pick(problemAt("rename"), ["name"]);
  const elementCount = library?.elementCount;

  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="settings-title">
      <Stack gap="sm">
        <Title order={2} size="h3" id="settings-title">
          Team settings
        </Title>
        {can.edit && (
          <Button variant="default" justify="flex-start" leftSection={<Pencil size={16} aria-hidden />} onClick={() => open("rename")}>
            Rename team
          </Button>
        )}
        {can.manageOwners && (
          <Button
            variant="default"
            justify="flex-start"
            leftSection={<Crown size={16} aria-hidden />}
            onClick={() => open("transfer")}
            disabled={others.length === 0}
            title={others.length === 0 ? "Invite someone first: ownership goes to another member" : undefined}
          >
            Transfer ownership
          </Button>
        )}
        <Button variant="outline" color="orange" justify="flex-start" leftSection={<DoorOpen size={16} aria-hidden />} onClick={() => open("leave")}>
          Leave team
        </Button>
        {can.deleteTeam && (
          <Button variant="outline" color="red" justify="flex-start" leftSection={<Trash2 size={16} aria-hidden />} onClick={() => open("delete")}>
            Delete team
          </Button>
        )}
      </Stack>

      <Modal opened={dialog === "rename"} onClose={close} title="Rename the team" centered>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            const ok = await run("rename", () => update({ input: { team: team.id, name: name.trim() } }, { additionalTypenames: TEAM_TYPENAMES }), "teamUpdate");
            if (ok) {
              close();
              refresh();
            }
          }}
        >
          <Stack>
            <TextInput label="Team name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={renameProblem?.fields.name} data-autofocus maxLength={60} />
            <Text size="xs" c="dimmed">
              The handle stays @{team.handle}: mentions already written keep working.
            </Text>
            {renameProblem?.form && <Refusal problem={{ ...renameProblem, fields: {} }} />}
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={busy === "rename"} disabled={!name.trim() || name.trim() === team.name}>
                Save name
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>

      <Modal opened={dialog === "transfer"} onClose={close} title="Transfer ownership" centered>
        <Stack>
          <NativeSelect
            label="New owner"
            data={others.map((m) => ({ value: m.id, label: `${m.username} (${ROLE_LABELS[m.role]})` }))}
            value={heir}
            onChange={(e) => setHeir(e.currentTarget.value)}
            data-autofocus
          />
          <Text size="sm">
            They become an owner and you become an admin: you keep managing members, but no longer owners, the name or
            the team itself.
          </Text>
          <Refusal problem={problemAt("transfer")} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button
              loading={busy === "transfer"}
              disabled={!heir}
              onClick={async () => {
                const ok = await run(
                  "transfer",
                  () => transfer({ input: { team: team.id, member: heir } }, { additionalTypenames: TEAM_TYPENAMES }),
                  "teamOwnershipTransfer",
                );
                if (ok) {
                  close();
                  refresh();
                }
              }}
            >
              Transfer ownership
            </Button>
          </Group>
        </Stack>
      </Modal>

      <Modal opened={dialog === "leave"} onClose={close} title={`Leave ${team.name}?`} centered>
        <Stack>
          <Text size="sm">
            You lose access to its library at once, including the elements you made there (they stay with the team). To
            come back, someone has to invite you again.
          </Text>
          {!can.leave && !problemAt("leave") && (
            <Alert color="orange" role="alert" title="A team needs an owner" icon={<Crown size={18} aria-hidden />}>
              You are the only owner of {team.name}. Make another member an owner first (Transfer ownership), or delete the
              team.
            </Alert>
          )}
          <Refusal problem={problemAt("leave")} />
          <Group justify="flex-end">
            <Button variant="default" onClick={close} data-autofocus>
              Stay
            </Button>
            <Button
              color="orange"
              disabled={!can.leave}
              loading={busy === "leave"}
              onClick={async () => {
                const ok = await run("leave", () => leave({ input: { team: team.id } }, { additionalTypenames: TEAM_TYPENAMES }), "teamLeave");
                if (ok) navigate("/teams", { replace: true });
              }}
            >
              Leave team
            </Button>
          </Group>
        </Stack>
      </Modal>

      <Modal opened={dialog === "delete"} onClose={close} title={`Delete ${team.name}?`} centered>
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            if (typed.trim() !== team.name) return;
            const ok = await run("delete", () => del({ input: { team: team.id } }, { additionalTypenames: TEAM_TYPENAMES }), "teamDelete");
            if (ok) navigate("/teams", { replace: true });
          }}
        >
          <Stack>
            <Alert color="red" variant="light" icon={<TriangleAlert size={18} aria-hidden />} title="This can't be undone">
              The team's elements go with it
              {elementCount !== undefined ? ` (${elementCount} element${elementCount === 1 ? "" : "s"})` : ""}, with their images and
              voices, for every member. Jobs already made keep their results.
            </Alert>
            <TextInput
              label={`Type “${team.name}” to confirm`}
              value={typed}
              onChange={(e) => setTyped(e.currentTarget.value)}
              data-autofocus
              autoComplete="off"
            />
            <Refusal problem={problemAt("delete")} />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Keep the team
              </Button>
              <Button type="submit" color="red" loading={busy === "delete"} disabled={typed.trim() !== team.name}>
                Delete team
              </Button>
            </Group>
          </Stack>
        </form>
      </Modal>
    </Paper>
  );
}

const TEAM_CONTEXT = { additionalTypenames: TEAM_TYPENAMES };
