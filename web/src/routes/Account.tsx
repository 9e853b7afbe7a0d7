import { Alert, Badge, Button, Center, Group, Loader, Paper, Progress, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Coins, Receipt } from "lucide-react";
import { useQuery } from "urql";

import { signed, when } from "../app/labels";
import { useConnectionPages } from "../app/paging";
import { ApiTokens } from "../components/ApiTokens";
import { Webhooks } from "../components/Webhooks";
import { graphql } from "../gql";
import type { LedgerKind } from "../gql/graphql";

const AccountDocument = graphql(`
  query Account {
    me {
      username
      email
      displayName
      isMember
      membershipExpiresAt
      tier {
        code
        name
        elementLimit
        dailyFreeMultiview
        dailyCreditGrant
      }
      elementLimit
      elementCount
      creditBalance
      elementQuotaReason
      freeMultiviewUsesPerDay
      freeMultiviewUsesLeftToday
      multiviewPriceCredits
    }
  }
`);

export const CreditLedgerDocument = graphql(`
  query CreditLedger($first: Int, $after: String) {
    creditLedger(first: $first, after: $after) {
      pageInfo {
        hasNextPage
        endCursor
      }
      edges {
        node {
          id
          kind
          amount
          balanceAfter
          reason
          createdAt
        }
      }
    }
  }
`);

const KIND: Record<LedgerKind, { label: string; color: string }> = {
  GRANT: { label: "Grant", color: "violet" },
  DEBIT: { label: "Charge", color: "gray" },
  REFUND: { label: "Refund", color: "teal" },
  ADJUSTMENT: { label: "Adjustment", color: "blue" },
};

function Figure({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={700} size="xl">
        {value}
      </Text>
      {hint && (
        <Text size="xs" c="dimmed">
          {hint}
        </Text>
      )}
    </Stack>
  );
}

function Ledger() {
  const ledger = useConnectionPages(CreditLedgerDocument, {}, (d) => d.creditLedger, 20);
  if (ledger.loading) {
    return (
      <Center p="md">
        <Loader size="sm" aria-label="Loading credit history" />
      </Center>
    );
  }
  if (ledger.problem) return <Alert color="red">{ledger.problem.form}</Alert>;
  if (ledger.nodes.length === 0) {
    return (
      <Stack align="center" gap={4} p="md">
        <Receipt size={28} color="var(--mantine-color-violet-4)" aria-hidden />
        <Text fw={600}>No credit movements yet</Text>
        <Text size="sm" c="dimmed" ta="center">
          Grants, charges for generations and refunds show up here as they happen.
        </Text>
      </Stack>
    );
  }
  // A list, not a table: at 390 px each movement still shows its amount and the balance after it.
  return (
    <Stack gap="sm">
      <Stack gap={0} component="ul" aria-label="Credit history" style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {ledger.nodes.map((e) => (
          <Group
            key={e.id}
            component="li"
            justify="space-between"
            wrap="nowrap"
            gap="sm"
            py="xs"
            style={{ borderBottom: "1px solid var(--mantine-color-dark-5)" }}
          >
            <Stack gap={2} style={{ minWidth: 0 }}>
              <Group gap="xs" wrap="nowrap">
                <Badge size="xs" variant="light" color={KIND[e.kind].color} style={{ flexShrink: 0 }}>
                  {KIND[e.kind].label}
                </Badge>
                <Text size="sm" lineClamp={2}>
                  {e.reason}
                </Text>
              </Group>
              <Text size="xs" c="dimmed">
                {when(e.createdAt)}
              </Text>
            </Stack>
            <Stack gap={0} align="flex-end" style={{ flexShrink: 0, fontVariantNumeric: "tabular-nums" }}>
              <Text size="sm" fw={700} c={e.amount > 0 ? "teal.4" : undefined}>
                {signed(e.amount)}
              </Text>
              <Text size="xs" c="dimmed">
                balance {e.balanceAfter}
              </Text>
            </Stack>
          </Group>
        ))}
      </Stack>
      {ledger.hasMore && (
        <Button variant="default" onClick={ledger.loadMore} loading={ledger.loadingMore} style={{ alignSelf: "center" }}>
          Show older movements
        </Button>
      )}
    </Stack>
  );
}

export default function Account() {
  const [{ data, error }] = useQuery({ query: AccountDocument, requestPolicy: "network-only" });
  const me = data?.me;

  return (
    <Stack gap="xl" py="md">
      <Stack gap={2}>
        <Title order={1}>Account</Title>
        <Text c="dimmed" size="sm">
          Your membership and its limits, your credits, and the keys your own apps use.
        </Text>
      </Stack>
      {error && <Alert color="red">{error.message}</Alert>}
      {!me ? (
        !error && (
          <Center p="lg">
            <Loader aria-label="Loading your account" />
          </Center>
        )
      ) : (
        <SimpleGrid cols={{ base: 1, md: 2 }} spacing="xl" style={{ alignItems: "start" }}>
          <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="membership-title">
            <Stack gap="md">
              <Group justify="space-between">
                <Title order={2} size="h3" id="membership-title">
                  Membership
                </Title>
                <Badge size="lg" variant="light" color={me.isMember ? "violet" : "gray"}>
                  {me.tier.name}
                </Badge>
              </Group>
              <Text size="sm" c="dimmed">
                Signed in as <b>{me.displayName || me.username}</b>
                {me.email ? ` (${me.email})` : ""}.{" "}
                {me.isMember
                  ? me.membershipExpiresAt
                    ? `Your membership runs until ${when(me.membershipExpiresAt)}.`
                    : "Your membership has no end date."
                  : "You are on the free tier."}
              </Text>
              <Stack gap={6}>
                <Group justify="space-between">
                  <Text size="sm" fw={600}>
                    Elements
                  </Text>
                  <Text size="sm" aria-label={`Elements: ${me.elementCount} of ${me.elementLimit}`}>
                    {me.elementCount} of {me.elementLimit}
                  </Text>
                </Group>
                <Progress
                  value={me.elementLimit ? Math.min(100, (100 * me.elementCount) / me.elementLimit) : 100}
                  color={me.elementCount >= me.elementLimit ? "orange" : "violet"}
                  aria-label="Element limit used"
                />
                {me.elementQuotaReason && (
                  <Text size="xs" c="orange.4">
                    {me.elementQuotaReason}
                  </Text>
                )}
              </Stack>
              <SimpleGrid cols={2} spacing="md">
                <Figure
                  label="Free multi-view today"
                  value={
                    me.freeMultiviewUsesPerDay
                      ? `${me.freeMultiviewUsesLeftToday} of ${me.freeMultiviewUsesPerDay} left`
                      : "None"
                  }
                  hint={
                    me.freeMultiviewUsesPerDay
                      ? `Then ${me.multiviewPriceCredits} credits each`
                      : `Not on your tier: ${me.multiviewPriceCredits} credits each`
                  }
                />
                <Figure label="Daily credit grant" value={`${me.tier.dailyCreditGrant} credits`} hint="Added at each daily reset" />
              </SimpleGrid>
            </Stack>
          </Paper>
          <Paper withBorder p="lg" radius="lg" bg="dark.7" component="section" aria-labelledby="credits-title">
            <Stack gap="md">
              <Group justify="space-between" align="flex-start">
                <Title order={2} size="h3" id="credits-title">
                  Credits
                </Title>
                <Group gap={6} aria-label={`Credit balance: ${me.creditBalance}`}>
                  <Coins size={20} color="var(--mantine-color-yellow-5)" aria-hidden />
                  <Text fw={700} size="xl">
                    {me.creditBalance}
                  </Text>
                </Group>
              </Group>
              <Ledger />
            </Stack>
          </Paper>
        </SimpleGrid>
      )}
      <SimpleGrid cols={{ base: 1, lg: 2 }} spacing="xl" style={{ alignItems: "start" }}>
        <ApiTokens />
        <Webhooks />
      </SimpleGrid>
    </Stack>
  );
}
