import { MantineProvider } from "@mantine/core";
import { render } from "@testing-library/react";
import type { ReactElement } from "react";
import { MemoryRouter } from "react-router";
import { Provider, type Client } from "urql";
import { fromValue, never } from "wonka";

import { theme } from "../app/theme";

type Responder = (operation: { kind: string; query: unknown; variables: Record<string, unknown> }) => unknown;

/** A urql client whose operations answer what `respond` returns (recorded in `calls`). */
export function fakeClient(respond: Responder) {
  const calls: { kind: string; variables: Record<string, unknown> }[] = [];
  const answer = (kind: string) => (request: { query: unknown; variables?: Record<string, unknown> }) => {
    const variables = request.variables ?? {};
    calls.push({ kind, variables });
    const data = respond({ kind, query: request.query, variables });
    return data === undefined ? never : fromValue({ data, stale: false, hasNext: false });
  };
  // `client.query(...).toPromise()`, as hooks that read page after page use it.
  const once = (query: unknown, variables?: Record<string, unknown>) => ({
    toPromise: async () => {
      const vars = variables ?? {};
      calls.push({ kind: "query", variables: vars });
      return { data: respond({ kind: "query", query, variables: vars }), stale: false, hasNext: false };
    },
  });
  const client = {
    query: once,
    executeQuery: answer("query"),
    executeMutation: answer("mutation"),
    executeSubscription: () => never,
  } as unknown as Client;
  return { client, calls };
}

export function renderWith(ui: ReactElement, client: Client, route = "/") {
  return render(
    <MantineProvider theme={theme} defaultColorScheme="dark">
      <Provider value={client}>
        <MemoryRouter initialEntries={[route]}>{ui}</MemoryRouter>
      </Provider>
    </MantineProvider>,
  );
}
