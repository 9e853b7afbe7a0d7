import { Alert, Badge, Button, Center, Group, Loader, Modal, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { KeyRound, Plus } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { when } from "../app/labels";
import { useConnectionPages } from "../app/paging";
import { useSession } from "../app/session";
import { graphql } from "../gql";
import type { ApiTokenListQuery } from "../gql/graphql";
import { SecretOnce } from "./SecretOnce";

export const ApiTokenListDocument = graphql(`
  query ApiTokenList($first: Int, $after: String) {
    apiTokens(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          name
          prefix
          createdAt
          lastUsedAt
          revokedAt
        }
      }
    }
  }
`);

const ApiTokenCreateDocument = graphql(`
  mutation ApiTokenCreate($input: ApiTokenCreateInput!) {
    apiTokenCreate(input: $input) {
      ... on ApiTokenCreateResult {
        secret
        token {
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

const ApiTokenRevokeDocument = graphql(`
  mutation ApiTokenRevoke($input: ApiTokenRevokeInput!) {
    apiTokenRevoke(input: $input) {
      ... on ApiTokenRevokeResult {
        token {
          id
          revokedAt
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

type Token = ApiTokenListQuery["apiTokens"]["edges"][number]["node"];

export function ApiTokens() {
  const { setSessionLost } = useSession();
  const tokens = useConnectionPages(ApiTokenListDocument, {}, (d) => d.apiTokens, 50);
  const [, create] = useMutation(ApiTokenCreateDocument);
  const [, revoke] = useMutation(ApiTokenRevokeDocument);
  const [name, setName] = useState("");
  const [creating, setCreating] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [secret, setSecret] = useState<{ name: string; value: string } | null>(null);
  const [revoking, setRevoking] = useState<Token | null>(null);
  const [revokeProblem, setRevokeProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setCreating(true);
    const r = await create({ input: { name: name.trim() } });
    setCreating(false);
    const found = pick(problemOf(r.error, r.data?.apiTokenCreate), ["name"]);
    if (found && (found.form || Object.keys(found.fields).length)) {
      if (isSessionProblem(found)) setSessionLost(true);
      setProblem(found);
      return;
    }
    const result = r.data?.apiTokenCreate;
    if (result?.__typename === "ApiTokenCreateResult") {
      setSecret({ name: result.token.name, value: result.secret });
      setName("");
      setProblem(null);
      tokens.reload();
    }
  };

  const confirmRevoke = async () => {
    if (!revoking) return;
    setBusy(true);
    const r = await revoke({ input: { id: revoking.id } });
    setBusy(false);
    const found = problemOf(r.error, r.data?.apiTokenRevoke);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      setRevokeProblem(found.form ?? Object.values(found.fields).join(" "));
      return;
    }
    setRevoking(null);
    tokens.reload();
  };

  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="tokens-title">
      <Stack gap="md">
        <Stack gap={2}>
          <Title order={2} size="h3" id="tokens-title">
            API tokens
          </Title>
          <Text size="sm" c="dimmed">
            For your own apps and scripts: send one as <code>Authorization: Bearer …</code> to the GraphQL API.
          </Text>
        </Stack>
        <form onSubmit={submit} aria-label="Create an API token">
          <Group align="flex-start" gap="sm" wrap="wrap">
            <TextInput
              label="Token name"
              placeholder="e.g. render-bot"
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={problem?.fields.name}
              maxLength={60}
              style={{ flex: "1 1 220px" }}
            />
            <Button
              type="submit"
              mt={{ base: 0, xs: 25 }}
              loading={creating}
              disabled={!name.trim()}
              leftSection={<Plus size={16} aria-hidden />}
            >
              Create token
            </Button>
          </Group>
          {problem?.form && (
            <Alert color="red" mt="sm" role="alert">
              {problem.form}
            </Alert>
          )}
        </form>
        {secret && (
          <SecretOnce label={`token “${secret.name}”`} secret={secret.value} onDone={() => setSecret(null)} />
        )}
        {tokens.loading ? (
          <Center p="md">
            <Loader size="sm" aria-label="Loading API tokens" />
          </Center>
        ) : tokens.problem ? (
          <Alert color="red">{tokens.problem.form}</Alert>
        ) : tokens.nodes.length === 0 ? (
          <Stack align="center" gap={4} p="md">
            <KeyRound size={28} color="var(--mantine-color-violet-4)" aria-hidden />
            <Text fw={600}>No API tokens yet</Text>
            <Text size="sm" c="dimmed" ta="center">
              Name one above (after the app that will use it) to call the API from outside the studio.
            </Text>
          </Stack>
        ) : (
          <Stack gap="xs" component="ul" aria-label="Your API tokens" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {tokens.nodes.map((t) => (
              <Paper component="li" key={t.id} withBorder radius="md" p="sm" bg="dark.6" aria-label={`Token ${t.name}`}>
                <Group justify="space-between" wrap="wrap" gap="xs">
                  <Stack gap={2} style={{ minWidth: 0 }}>
                    <Group gap="xs" wrap="nowrap">
                      <Text fw={600} truncate="end">
                        {t.name}
                      </Text>
                      {t.revokedAt ? (
                        <Badge color="gray" variant="light" size="sm">
                          Revoked
                        </Badge>
                      ) : (
                        <Badge color="teal" variant="light" size="sm">
                          Active
                        </Badge>
                      )}
                    </Group>
                    <Text size="xs" c="dimmed">
                      <code>{t.prefix}…</code> · created {when(t.createdAt)} ·{" "}
                      {t.revokedAt
                        ? `revoked ${when(t.revokedAt)}`
                        : t.lastUsedAt
                          ? `last used ${when(t.lastUsedAt)}`
                          : "never used"}
                    </Text>
                  </Stack>
                  {!t.revokedAt && (
                    <Button
                      variant="light"
                      color="red"
                      size="xs"
                      onClick={() => {
                        setRevokeProblem(null);
                        setRevoking(t);
                      }}
                      aria-label={`Revoke token ${t.name}`}
                    >
                      Revoke
                    </Button>
                  )}
                </Group>
              </Paper>
            ))}
          </Stack>
        )}
        {tokens.hasMore && (
          <Button variant="default" onClick={tokens.loadMore} loading={tokens.loadingMore} style={{ alignSelf: "center" }}>
            Show more tokens
          </Button>
        )}
      </Stack>
      <Modal opened={!!revoking} onClose={() => setRevoking(null)} title={`Revoke “${revoking?.name}”?`} centered>
        <Stack>
          <Text size="sm">Apps using this token stop working at once. This can't be undone.</Text>
          {revokeProblem && (
            <Alert color="red" role="alert">
              {revokeProblem}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRevoking(null)} data-autofocus>
              Keep it
            </Button>
            <Button color="red" loading={busy} onClick={confirmRevoke}>
              Revoke token
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
