import {
  Accordion,
  Alert,
  Badge,
  Button,
  Center,
  Checkbox,
  Group,
  Loader,
  Modal,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { Plus, Send, Webhook } from "lucide-react";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { when } from "../app/labels";
import { useConnectionPages } from "../app/paging";
import { useSession } from "../app/session";
import { graphql } from "../gql";
import type { WebhookDeliveryListQuery, WebhookEndpointListQuery, WebhookEventType } from "../gql/graphql";
import { SecretOnce } from "./SecretOnce";

export const EVENT_LABELS: Record<WebhookEventType, string> = {
  GENERATION_QUEUED: "Generation queued",
  GENERATION_STARTED: "Generation started",
  GENERATION_SUCCEEDED: "Generation succeeded",
  GENERATION_FAILED: "Generation failed",
  GENERATION_CANCELED: "Generation canceled",
  GENERATION_STALLED: "Generation stalled",
  ELEMENT_READY: "Element ready",
  ELEMENT_FAILED: "Element failed",
};
const EVENTS = Object.keys(EVENT_LABELS) as WebhookEventType[];

export const WebhookEndpointListDocument = graphql(`
  query WebhookEndpointList($first: Int, $after: String) {
    webhookEndpoints(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          url
          description
          createdAt
          events
          maskedSecret
        }
      }
    }
  }
`);

export const WebhookDeliveryListDocument = graphql(`
  query WebhookDeliveryList($first: Int, $after: String) {
    webhookDeliveries(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          eventType
          status
          attemptCount
          nextAttemptAt
          lastStatusCode
          lastError
          createdAt
          finishedAt
          eventId
          endpoint {
            id
            url
          }
          attempts {
            number
            startedAt
            durationMs
            statusCode
            error
            responseExcerpt
          }
        }
      }
    }
  }
`);

const WebhookEndpointCreateDocument = graphql(`
  mutation WebhookEndpointCreate($input: WebhookEndpointCreateInput!) {
    webhookEndpointCreate(input: $input) {
      ... on WebhookEndpointCreateResult {
        secret
        endpoint {
          id
          url
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

const WebhookEndpointDeleteDocument = graphql(`
  mutation WebhookEndpointDelete($id: ID!) {
    webhookEndpointDelete(id: $id) {
      ... on WebhookEndpointDeleteResult {
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

type Endpoint = WebhookEndpointListQuery["webhookEndpoints"]["edges"][number]["node"];
type Delivery = WebhookDeliveryListQuery["webhookDeliveries"]["edges"][number]["node"];

const STATUS_COLOR = { PENDING: "yellow", SUCCEEDED: "teal", FAILED: "red" } as const;
const STATUS_LABEL = { PENDING: "Pending", SUCCEEDED: "Delivered", FAILED: "Failed" } as const;

function CreateEndpoint({ onCreated }: { onCreated: () => void }) {
  const { setSessionLost } = useSession();
  const [, create] = useMutation(WebhookEndpointCreateDocument);
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [events, setEvents] = useState<string[]>([]);
  const [saving, setSaving] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [secret, setSecret] = useState<{ url: string; value: string } | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setSaving(true);
    const r = await create({
      input: { url: url.trim(), description: description.trim(), events: events as WebhookEventType[] },
    });
    setSaving(false);
    const found = pick(problemOf(r.error, r.data?.webhookEndpointCreate), ["url", "description", "events"]);
    if (found && (found.form || Object.keys(found.fields).length)) {
      if (isSessionProblem(found)) setSessionLost(true);
      setProblem(found);
      return;
    }
    const result = r.data?.webhookEndpointCreate;
    if (result?.__typename === "WebhookEndpointCreateResult") {
      setSecret({ url: result.endpoint.url, value: result.secret });
      setUrl("");
      setDescription("");
      setEvents([]);
      setProblem(null);
      onCreated();
    }
  };

  return (
    <Stack gap="sm">
      <form onSubmit={submit} aria-label="Add a webhook endpoint">
        <Stack gap="sm">
          <TextInput
            label="Endpoint URL"
            description="An https:// address on the public internet; we POST signed JSON to it."
            placeholder="https://example.com/hooks/studio"
            type="url"
            inputMode="url"
            value={url}
            onChange={(e) => setUrl(e.currentTarget.value)}
            error={problem?.fields.url}
            required
          />
          <TextInput
            label="Description"
            placeholder="What receives it (optional)"
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            error={problem?.fields.description}
            maxLength={200}
          />
          <Checkbox.Group
            label="Events"
            description="Leave all unticked to receive every event."
            value={events}
            onChange={setEvents}
            error={problem?.fields.events}
          >
            <SimpleGrid cols={{ base: 1, xs: 2 }} spacing={6} mt={6}>
              {EVENTS.map((e) => (
                <Checkbox key={e} value={e} label={EVENT_LABELS[e]} />
              ))}
            </SimpleGrid>
          </Checkbox.Group>
          {problem?.form && (
            <Alert color="red" role="alert">
              {problem.form}
            </Alert>
          )}
          <Group>
            <Button type="submit" loading={saving} disabled={!url.trim()} leftSection={<Plus size={16} aria-hidden />}>
              Add endpoint
            </Button>
          </Group>
        </Stack>
      </form>
      {secret && (
        <SecretOnce label="signing secret" secret={secret.value} onDone={() => setSecret(null)} />
      )}
    </Stack>
  );
}

function EndpointRow({ endpoint, onDelete }: { endpoint: Endpoint; onDelete: () => void }) {
  return (
    <Paper component="li" withBorder radius="md" p="sm" bg="dark.6" aria-label={`Endpoint ${endpoint.url}`}>
      <Group justify="space-between" wrap="wrap" gap="xs" align="flex-start">
        <Stack gap={4} style={{ minWidth: 0, flex: "1 1 240px" }}>
          <Text fw={600} style={{ wordBreak: "break-all" }}>
            {endpoint.url}
          </Text>
          {endpoint.description && (
            <Text size="sm" c="dimmed">
              {endpoint.description}
            </Text>
          )}
          <Text size="xs" c="dimmed">
            Secret <code>{endpoint.maskedSecret}</code> · added {when(endpoint.createdAt)}
          </Text>
          <Group gap={4}>
            {endpoint.events.length === 0 ? (
              <Badge size="xs" variant="light" color="violet">
                All events
              </Badge>
            ) : (
              endpoint.events.map((e) => (
                <Badge key={e} size="xs" variant="light" color="gray">
                  {EVENT_LABELS[e]}
                </Badge>
              ))
            )}
          </Group>
        </Stack>
        <Button variant="light" color="red" size="xs" onClick={onDelete} aria-label={`Delete endpoint ${endpoint.url}`}>
          Delete
        </Button>
      </Group>
    </Paper>
  );
}

function DeliveryLog({ deliveries }: { deliveries: Delivery[] }) {
  return (
    <Accordion variant="separated" radius="md" chevronPosition="left" aria-label="Webhook deliveries">
      {deliveries.map((d) => (
        <Accordion.Item key={d.id} value={d.id} bg="dark.6">
          <Accordion.Control aria-label={`${EVENT_LABELS[d.eventType]} to ${d.endpoint.url}: ${STATUS_LABEL[d.status]}`}>
            <Group justify="space-between" wrap="wrap" gap="xs">
              <Stack gap={0} style={{ minWidth: 0 }}>
                <Text size="sm" fw={600}>
                  {EVENT_LABELS[d.eventType]}
                </Text>
                <Text size="xs" c="dimmed" style={{ wordBreak: "break-all" }}>
                  {d.endpoint.url} · {when(d.createdAt)}
                </Text>
              </Stack>
              <Group gap="xs" wrap="nowrap">
                <Text size="xs" c="dimmed">
                  {d.attemptCount} attempt{d.attemptCount === 1 ? "" : "s"}
                </Text>
                <Badge color={STATUS_COLOR[d.status]} variant="light">
                  {STATUS_LABEL[d.status]}
                </Badge>
              </Group>
            </Group>
          </Accordion.Control>
          <Accordion.Panel>
            <Stack gap="xs">
              {d.status === "PENDING" && d.nextAttemptAt && (
                <Text size="xs" c="yellow.4">
                  Next attempt {when(d.nextAttemptAt)}
                </Text>
              )}
              {d.attempts.length === 0 ? (
                <Text size="sm" c="dimmed">
                  No attempt yet: the first one is on its way.
                </Text>
              ) : (
                <Table.ScrollContainer minWidth={480}>
                  <Table striped withTableBorder fz="xs" aria-label={`Attempts of ${EVENT_LABELS[d.eventType]}`}>
                    <Table.Thead>
                      <Table.Tr>
                        <Table.Th>#</Table.Th>
                        <Table.Th>Started</Table.Th>
                        <Table.Th>Answer</Table.Th>
                        <Table.Th>Time</Table.Th>
                        <Table.Th>Details</Table.Th>
                      </Table.Tr>
                    </Table.Thead>
                    <Table.Tbody>
                      {d.attempts.map((a) => (
                        <Table.Tr key={a.number}>
                          <Table.Td>{a.number}</Table.Td>
                          <Table.Td>{when(a.startedAt)}</Table.Td>
                          <Table.Td>
                            {a.statusCode ? (
                              <Badge size="xs" variant="light" color={a.statusCode < 300 ? "teal" : "red"}>
                                HTTP {a.statusCode}
                              </Badge>
                            ) : (
                              <Badge size="xs" variant="light" color="red">
                                No answer
                              </Badge>
                            )}
                          </Table.Td>
                          <Table.Td>{a.durationMs} ms</Table.Td>
                          <Table.Td style={{ wordBreak: "break-word" }}>{a.error || a.responseExcerpt || "—"}</Table.Td>
                        </Table.Tr>
                      ))}
                    </Table.Tbody>
                  </Table>
                </Table.ScrollContainer>
              )}
              <Text size="xs" c="dimmed">
                Event id <code>{d.eventId}</code>
              </Text>
            </Stack>
          </Accordion.Panel>
        </Accordion.Item>
      ))}
    </Accordion>
  );
}

export function Webhooks() {
  const { setSessionLost } = useSession();
  const endpoints = useConnectionPages(WebhookEndpointListDocument, {}, (d) => d.webhookEndpoints, 50);
  const deliveries = useConnectionPages(WebhookDeliveryListDocument, {}, (d) => d.webhookDeliveries, 20);
  const [, remove] = useMutation(WebhookEndpointDeleteDocument);
  const [deleting, setDeleting] = useState<Endpoint | null>(null);
  const [deleteProblem, setDeleteProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const confirmDelete = async () => {
    if (!deleting) return;
    setBusy(true);
    const r = await remove({ id: deleting.id });
    setBusy(false);
    const found = problemOf(r.error, r.data?.webhookEndpointDelete);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      setDeleteProblem(found.form ?? Object.values(found.fields).join(" "));
      return;
    }
    setDeleting(null);
    endpoints.reload();
    deliveries.reload();
  };

  return (
    <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="webhooks-title">
      <Stack gap="md">
        <Stack gap={2}>
          <Title order={2} size="h3" id="webhooks-title">
            Webhooks
          </Title>
          <Text size="sm" c="dimmed">
            Get a signed POST when a generation or an element changes state, instead of polling.
          </Text>
        </Stack>
        <CreateEndpoint onCreated={endpoints.reload} />
        <Title order={3} size="h5" mt="sm">
          Endpoints
        </Title>
        {endpoints.loading ? (
          <Center p="md">
            <Loader size="sm" aria-label="Loading webhook endpoints" />
          </Center>
        ) : endpoints.problem ? (
          <Alert color="red">{endpoints.problem.form}</Alert>
        ) : endpoints.nodes.length === 0 ? (
          <Stack align="center" gap={4} p="md">
            <Webhook size={28} color="var(--mantine-color-violet-4)" aria-hidden />
            <Text fw={600}>No webhook endpoints yet</Text>
            <Text size="sm" c="dimmed" ta="center">
              Add your server's URL above; each event is retried with back-off until it answers 2xx.
            </Text>
          </Stack>
        ) : (
          <Stack gap="xs" component="ul" aria-label="Your webhook endpoints" style={{ listStyle: "none", padding: 0, margin: 0 }}>
            {endpoints.nodes.map((e) => (
              <EndpointRow
                key={e.id}
                endpoint={e}
                onDelete={() => {
                  setDeleteProblem(null);
                  setDeleting(e);
                }}
              />
            ))}
          </Stack>
        )}
        {endpoints.hasMore && (
          <Button variant="default" onClick={endpoints.loadMore} loading={endpoints.loadingMore} style={{ alignSelf: "center" }}>
            Show more endpoints
          </Button>
        )}
        <Group justify="space-between" mt="sm">
          <Title order={3} size="h5">
            Deliveries
          </Title>
          <Button variant="subtle" size="xs" onClick={deliveries.reload}>
            Refresh deliveries
          </Button>
        </Group>
        {deliveries.loading ? (
          <Center p="md">
            <Loader size="sm" aria-label="Loading webhook deliveries" />
          </Center>
        ) : deliveries.problem ? (
          <Alert color="red">{deliveries.problem.form}</Alert>
        ) : deliveries.nodes.length === 0 ? (
          <Stack align="center" gap={4} p="md">
            <Send size={28} color="var(--mantine-color-violet-4)" aria-hidden />
            <Text fw={600}>No deliveries yet</Text>
            <Text size="sm" c="dimmed" ta="center">
              They appear here, with every attempt, once an event happens for one of your endpoints.
            </Text>
          </Stack>
        ) : (
          <DeliveryLog deliveries={deliveries.nodes} />
        )}
        {deliveries.hasMore && (
          <Button variant="default" onClick={deliveries.loadMore} loading={deliveries.loadingMore} style={{ alignSelf: "center" }}>
            Show older deliveries
          </Button>
        )}
      </Stack>
      <Modal opened={!!deleting} onClose={() => setDeleting(null)} title="Delete this webhook endpoint?" centered>
        <Stack>
          <Text size="sm" style={{ wordBreak: "break-all" }}>
            {deleting?.url}
          </Text>
          <Text size="sm">No more events go there, and its delivery log is deleted with it.</Text>
          {deleteProblem && (
            <Alert color="red" role="alert">
              {deleteProblem}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setDeleting(null)} data-autofocus>
              Keep it
            </Button>
            <Button color="red" loading={busy} onClick={confirmDelete}>
              Delete endpoint
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}
