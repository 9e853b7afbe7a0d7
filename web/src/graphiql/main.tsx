// GraphiQL served by the service at GET /graphql: the `graphiql` npm package bundled here, so
// the IDE, its editor (Monaco) and its workers all load from this service, never a CDN.
import "graphiql/setup-workers/vite";
import "graphiql/style.css";

import { GraphiQL } from "graphiql";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { csrfToken } from "../app/csrf";

type FetcherParams = { query: string; operationName?: string | null; variables?: unknown };

// A same-origin fetcher with the session cookie and Django's CSRF header; the token is read at
// each request because `login` rotates it. The headers tab is sent too: with
// GRAPHQL_TRUSTED_DOCUMENTS_ONLY on, a session may not send text, and
// `{"Authorization": "Bearer <token>"}` there runs it as the token's owner instead.
async function fetcher(params: FetcherParams, options?: { headers?: Record<string, string> }) {
  const response = await fetch("/graphql", {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(),
      ...options?.headers,
    },
    body: JSON.stringify(params),
  });
  return response.json();
}

const DEFAULT_QUERY = `# The Element Library API.
# Sign in here with the \`login\` mutation (a cookie session);
# client apps send \`Authorization: Bearer <token>\`.
query Viewer {
  me {
    username
    tier { name }
    elementCount
    elementLimit
    creditBalance
  }
}
`;

createRoot(document.getElementById("graphiql")!).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
  </StrictMode>,
);
