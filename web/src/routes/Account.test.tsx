import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import { describe, expect, it } from "vitest";

import { SessionProvider } from "../app/session";
import { ApiTokens } from "../components/ApiTokens";
import { Webhooks } from "../components/Webhooks";
import { fakeClient, renderWith } from "../test/render";
import Account from "./Account";

type Op = { kind: string; query: unknown; variables: Record<string, unknown> };
const nameOf = (op: Op) => (op.query as { definitions: { name?: { value: string } }[] }).definitions[0].name?.value;

const pageInfo = (hasNextPage: boolean, endCursor: string | null) => ({ __typename: "PageInfo", hasNextPage, endCursor });
const connection = (typename: string, nodes: object[], next: string | null = null) => ({
  __typename: typename,
  pageInfo: pageInfo(!!next, next),
  edges: nodes.map((node) => ({ __typename: `${typename}Edge`, node })),
});
const empty = (typename: string) => connection(typename, []);

const me = {
  __typename: "Me",
  username: "ada",
  email: "ada@example.com",
  displayName: "Ada",
  isMember: false,
  membershipExpiresAt: null,
  tier: { __typename: "MembershipTier", code: "free", name: "Free", elementLimit: 30, dailyFreeMultiview: 2, dailyCreditGrant: 10 },
  elementLimit: 30,
  elementCount: 3,
  creditBalance: 75,
  canCreateElements: true,
  canEditElements: true,
  elementQuotaReason: null,
  freeMultiviewUsesPerDay: 2,
  freeMultiviewUsesLeftToday: 1,
  multiviewPriceCredits: 5,
};

const entry = (n: number) => ({
  __typename: "CreditLedgerEntry",
  id: `L${n}`,
  kind: n % 2 ? "DEBIT" : "GRANT",
  amount: n % 2 ? -5 : 20,
  balanceAfter: 100 - n,
  reason: `movement ${n}`,
  createdAt: "2026-12-05T01:00:00+00:00",
});

describe("Account", () => {
  it("shows the limits and pages the ledger forward from the last cursor, newest first", async () => {
    const { client, calls } = fakeClient((op) => {
      switch (nameOf(op)) {
        case "Account":
        case "Viewer":
          return { me };
        case "CreditLedger":
          return op.variables.after === "c1"
            ? { creditLedger: connection("CreditLedgerEntryConnection", [entry(3)]) }
            : { creditLedger: connection("CreditLedgerEntryConnection", [entry(1), entry(2)], "c1") };
        case "ApiTokenList":
          return { apiTokens: empty("ApiTokenConnection") };
        case "WebhookEndpointList":
          return { webhookEndpoints: empty("WebhookEndpointConnection") };
        case "WebhookDeliveryList":
          return { webhookDeliveries: empty("WebhookDeliveryConnection") };
      }
    });
    renderWith(
      <SessionProvider>
        <Account />
      </SessionProvider>,
      client,
      "/account",
    );
    await screen.findByText("movement 1");
    expect(screen.getByLabelText("Elements: 3 of 30")).toBeTruthy();
    expect(screen.getByText("1 of 2 left")).toBeTruthy();
    expect(screen.getByLabelText("Credit balance: 75")).toBeTruthy();
    expect(screen.getByText("No API tokens yet")).toBeTruthy();
    expect(screen.getByText("No webhook endpoints yet")).toBeTruthy();
    expect(screen.getByText("No deliveries yet")).toBeTruthy();
    const history = screen.getByRole("list", { name: "Credit history" });
    expect(within(history).getByText("\u22125")).toBeTruthy();
    expect(within(history).getByText("+20")).toBeTruthy();

    fireEvent.click(screen.getByRole("button", { name: "Show older movements" }));
    await screen.findByText("movement 3");
    const rows = within(history).getAllByRole("listitem").map((r) => r.textContent);
    expect(rows.map((r) => r?.match(/movement \d/)?.[0])).toEqual(["movement 1", "movement 2", "movement 3"]);
    expect(screen.queryByRole("button", { name: "Show older movements" })).toBeNull();
    const ledgerCalls = calls.filter((c) => "first" in c.variables && c.variables.first === 20 && "after" in c.variables);
    expect(ledgerCalls.map((c) => c.variables.after)).toContain("c1");
  });
});

describe("API tokens", () => {
  const token = { __typename: "ApiToken", id: "T1", name: "render-bot", prefix: "els_ab12", createdAt: "2026-12-05T01:00:00+00:00", lastUsedAt: null, revokedAt: null };

  it("shows the secret once with a copy button, then only the record", async () => {
    let created = false;
    const { client, calls } = fakeClient((op) => {
      switch (nameOf(op)) {
        case "Viewer":
          return { me };
        case "ApiTokenList":
          return { apiTokens: connection("ApiTokenConnection", created ? [token] : []) };
        case "ApiTokenCreate":
          created = true;
          return { apiTokenCreate: { __typename: "ApiTokenCreateResult", secret: "els_ab12-very-secret", token: { __typename: "ApiToken", id: "T1", name: "render-bot" } } };
      }
    });
    renderWith(<SessionProvider><ApiTokens /></SessionProvider>, client);
    await screen.findByText("No API tokens yet");
    fireEvent.change(screen.getByLabelText("Token name"), { target: { value: "  render-bot " } });
    fireEvent.click(screen.getByRole("button", { name: "Create token" }));
    const secret = await screen.findByLabelText("The token “render-bot”");
    expect(secret.textContent).toBe("els_ab12-very-secret");
    expect(screen.getByRole("button", { name: "Copy the token “render-bot”" })).toBeTruthy();
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({ input: { name: "render-bot" } });
    await screen.findByRole("listitem", { name: "Token render-bot" });
    expect((screen.getByLabelText("Token name") as HTMLInputElement).value).toBe("");

    fireEvent.click(screen.getByRole("button", { name: "I've stored it" }));
    expect(screen.queryByText("els_ab12-very-secret")).toBeNull();
    expect(screen.getByText("els_ab12…")).toBeTruthy();
  });

  it("puts the service's refusal at the name field and shows no secret", async () => {
    const { client } = fakeClient((op) => {
      switch (nameOf(op)) {
        case "Viewer":
          return { me };
        case "ApiTokenList":
          return { apiTokens: connection("ApiTokenConnection", [token]) };
        case "ApiTokenCreate":
          return {
            apiTokenCreate: {
              __typename: "OperationInfo",
              messages: [{ __typename: "OperationMessage", field: "name", message: "You already have a token named “render-bot”.", code: "TOKEN_NAME_TAKEN" }],
            },
          };
      }
    });
    renderWith(<SessionProvider><ApiTokens /></SessionProvider>, client);
    await screen.findByRole("listitem", { name: "Token render-bot" });
    fireEvent.change(screen.getByLabelText("Token name"), { target: { value: "render-bot" } });
    fireEvent.click(screen.getByRole("button", { name: "Create token" }));
    await screen.findByText("You already have a token named “render-bot”.");
    expect(screen.getByLabelText("Token name").getAttribute("aria-invalid")).toBe("true");
    expect(screen.queryByRole("region", { name: /New token/ })).toBeNull();
  });
});

describe("Webhooks", () => {
  it("shows a refused URL under the URL field, keeps the input, and sends the chosen events", async () => {
    const { client, calls } = fakeClient((op) => {
      switch (nameOf(op)) {
        case "Viewer":
          return { me };
        case "WebhookEndpointList":
          return { webhookEndpoints: empty("WebhookEndpointConnection") };
        case "WebhookDeliveryList":
          return { webhookDeliveries: empty("WebhookDeliveryConnection") };
        case "WebhookEndpointCreate":
          return {
            webhookEndpointCreate: {
              __typename: "OperationInfo",
              messages: [{ __typename: "OperationMessage", field: "url", message: "This URL resolves to a private address.", code: "WEBHOOK_ADDRESS_REFUSED" }],
            },
          };
      }
    });
    renderWith(<SessionProvider><Webhooks /></SessionProvider>, client);
    await screen.findByText("No webhook endpoints yet");
    fireEvent.change(screen.getByLabelText(/Endpoint URL/), { target: { value: "https://10.0.0.5/hook" } });
    fireEvent.click(screen.getByLabelText("Generation succeeded"));
    fireEvent.click(screen.getByRole("button", { name: "Add endpoint" }));
    await screen.findByText("This URL resolves to a private address.");
    expect(screen.getByLabelText(/Endpoint URL/).getAttribute("aria-invalid")).toBe("true");
    expect((screen.getByLabelText(/Endpoint URL/) as HTMLInputElement).value).toBe("https://10.0.0.5/hook");
    expect(calls.find((c) => c.kind === "mutation")?.variables).toEqual({
      input: { url: "https://10.0.0.5/hook", description: "", events: ["GENERATION_SUCCEEDED"] },
    });
    expect(screen.queryByRole("region", { name: "New signing secret" })).toBeNull();
  });

  it("lists deliveries with every attempt", async () => {
    const delivery = {
      __typename: "WebhookDelivery",
      id: "D1",
      eventType: "GENERATION_SUCCEEDED",
      status: "PENDING",
      attemptCount: 2,
      nextAttemptAt: "2026-12-05T02:00:00+00:00",
      lastStatusCode: 500,
      lastError: "",
      createdAt: "2026-12-05T01:00:00+00:00",
      finishedAt: null,
      eventId: "evt_1",
      endpoint: { __typename: "WebhookEndpoint", id: "E1", url: "https://hooks.example.com/a" },
      attempts: [
        { __typename: "WebhookAttempt", number: 1, startedAt: "2026-12-05T01:00:00+00:00", durationMs: 3000, statusCode: null, error: "timed out", responseExcerpt: "" },
        { __typename: "WebhookAttempt", number: 2, startedAt: "2026-12-05T01:01:00+00:00", durationMs: 40, statusCode: 500, error: "", responseExcerpt: "oops" },
      ],
    };
    const { client } = fakeClient((op) => {
      switch (nameOf(op)) {
        case "Viewer":
          return { me };
        case "WebhookEndpointList":
          return { webhookEndpoints: empty("WebhookEndpointConnection") };
        case "WebhookDeliveryList":
          return { webhookDeliveries: connection("WebhookDeliveryConnection", [delivery]) };
      }
    });
    renderWith(<SessionProvider><Webhooks /></SessionProvider>, client);
    const control = await screen.findByRole("button", { name: "Generation succeeded to https://hooks.example.com/a: Pending" });
    expect(screen.getByText("2 attempts")).toBeTruthy();
    fireEvent.click(control);
    const table = await screen.findByRole("table", { name: "Attempts of Generation succeeded" });
    await waitFor(() => expect(within(table).getByText("timed out")).toBeTruthy());
    expect(within(table).getByText("No answer")).toBeTruthy();
    expect(within(table).getByText("HTTP 500")).toBeTruthy();
    expect(within(table).getByText("oops")).toBeTruthy();
  });
});
