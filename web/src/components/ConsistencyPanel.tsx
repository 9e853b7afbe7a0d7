import { Alert, Badge, Card, Group, Loader, Stack, Table, Text, Title } from "@mantine/core";
import { TriangleAlert } from "lucide-react";
import { useId } from "react";

import { graphql } from "../gql";
import type { ConsistencyFieldsFragment } from "../gql/graphql";

graphql(`
  fragment ConsistencyFields on JobConsistency {
    status
    score
    drifted
    checkedAt
    shots {
      shotIndex
      elementPosition
      elementName
      method
      score
      present
      drift
    }
  }
`);

export type Consistency = ConsistencyFieldsFragment;

const METHOD_LABELS: Record<string, string> = { face: "Face", appearance: "Appearance" };

const percent = (score: number) => `${Math.round(Math.max(0, Math.min(1, score)) * 100)}%`;

function ScoreBar({ score, drift }: { score: number; drift: boolean }) {
  return (
    <Group gap={8} wrap="nowrap">
      <div className="consistency-bar" aria-hidden style={{ flex: "1 1 80px", minWidth: 60, height: 8, borderRadius: 4, background: "var(--mantine-color-dark-4)", overflow: "hidden" }}>
        <div
          style={{
            width: percent(score),
            height: "100%",
            background: drift ? "var(--mantine-color-red-6)" : "var(--mantine-color-teal-6)",
          }}
        />
      </div>
      <Text size="sm" style={{ fontVariantNumeric: "tabular-nums" }}>
        {percent(score)}
      </Text>
    </Group>
  );
}

/** How faithful a succeeded job's output is to its elements: the overall score and one row per
 * (shot, element), drifted ones flagged; "Measuring…" while the pass runs (`pending`), and a
 * plain word when it could not be measured. `gaveUp`: the page stopped waiting for it. */
export function ConsistencyPanel({ consistency, pending, gaveUp = false }: { consistency: Consistency | null; pending: boolean; gaveUp?: boolean }) {
  const headingId = useId();
  if (!consistency && !pending) return null;
  const measured = consistency?.status === "DONE";
  return (
    <Card component="section" aria-label="Consistency" radius="md" bg="dark.7" padding="md">
      <Stack gap="sm">
        <Group justify="space-between" gap="xs">
          <Title order={2} size="h5" id={headingId}>
            Consistency{measured && consistency.score != null ? ` ${consistency.score.toFixed(2)}` : ""}
          </Title>
          {measured && consistency.drifted > 0 && (
            <Badge color="red" variant="filled" leftSection={<TriangleAlert size={12} aria-hidden />}>
              {consistency.drifted} drifted
            </Badge>
          )}
          {measured && consistency.drifted === 0 && consistency.shots.length > 0 && (
            <Badge color="teal" variant="light">
              No drift
            </Badge>
          )}
        </Group>
        {!consistency ? (
          gaveUp ? (
            <Text size="sm" c="dimmed">
              Still being measured; reload the page later to see it.
            </Text>
          ) : (
            <Group gap="xs" role="status">
              <Loader size="xs" aria-hidden />
              <Text size="sm" c="dimmed">
                Measuring…
              </Text>
            </Group>
          )
        ) : consistency.status === "FAILED" ? (
          <Alert color="gray" variant="light" icon={<TriangleAlert size={16} aria-hidden />}>
            Could not be measured.
          </Alert>
        ) : consistency.shots.length === 0 ? (
          <Text size="sm" c="dimmed">
            No shot mentions an element, so there was nothing to compare.
          </Text>
        ) : (
          <>
            <Text size="xs" c="dimmed">
              How closely each shot shows the elements it mentions (faces for characters, appearance otherwise). Below 50% is drift: the element looks
              different there.
            </Text>
            <Table.ScrollContainer minWidth={460}>
              <Table fz="sm" verticalSpacing={6} aria-labelledby={headingId}>
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th scope="col">Shot</Table.Th>
                    <Table.Th scope="col">Element</Table.Th>
                    <Table.Th scope="col">Method</Table.Th>
                    <Table.Th scope="col" style={{ minWidth: 140 }}>
                      Score
                    </Table.Th>
                    <Table.Th scope="col">Seen</Table.Th>
                    <Table.Th scope="col">Drift</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {consistency.shots.map((s) => (
                    <Table.Tr key={`${s.shotIndex}-${s.elementPosition}`} bg={s.drift ? "rgba(250, 82, 82, 0.08)" : undefined}>
                      <Table.Td>{s.shotIndex}</Table.Td>
                      <Table.Th scope="row" fw={500}>
                        {s.elementName}
                      </Table.Th>
                      <Table.Td>{METHOD_LABELS[s.method] ?? s.method}</Table.Td>
                      <Table.Td>
                        <ScoreBar score={s.score} drift={s.drift} />
                      </Table.Td>
                      <Table.Td>{s.present ? "Yes" : s.method === "face" ? "No face" : "No"}</Table.Td>
                      <Table.Td>
                        {s.drift ? (
                          <Badge color="red" variant="filled" leftSection={<TriangleAlert size={12} aria-hidden />}>
                            Drift
                          </Badge>
                        ) : (
                          <Text size="sm" c="dimmed">
                            OK
                          </Text>
                        )}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            </Table.ScrollContainer>
          </>
        )}
      </Stack>
    </Card>
  );
}
