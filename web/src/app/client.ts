import { Client, cacheExchange, fetchExchange } from "urql";

import { csrfToken } from "./csrf";
import { persistedDocumentsExchange } from "./persisted";

/** The one GraphQL client: same origin, the session cookie, Django's CSRF header. Every
 * operation goes by its trusted-document id, never its text (./persisted.ts). Files in
 * variables go as a GraphQL multipart request (urql does that on its own). */
export function makeClient(url = "/graphql"): Client {
  return new Client({
    url,
    exchanges: [cacheExchange, persistedDocumentsExchange, fetchExchange],
    // POST always: the CSRF header then travels with every operation and nothing leaks into
    // URLs or server logs.
    preferGetMethod: false,
    requestPolicy: "cache-and-network",
    fetchOptions: () => ({
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken() },
    }),
  });
}
