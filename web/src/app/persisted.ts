import { makeOperation, type Exchange, type Operation, type PersistedDocument } from "@urql/core";
import { map, pipe } from "wonka";

/** What GraphQL Code Generator attaches to each document it generates (codegen.ts): the
 * document's id in the service's list of trusted documents, `sha256:<hex of its text>`. */
type WithHash = { __meta__?: { hash?: unknown } };

/** The trusted-document id of an operation's document, or undefined for a document that did
 * not come from codegen (it then goes as text, which a cookie session may be refused). */
export function documentIdOf(operation: Operation): string | undefined {
  const hash = (operation.query as WithHash).__meta__?.hash;
  return typeof hash === "string" && hash.startsWith("sha256:") ? hash : undefined;
}

/** Sends every generated operation by its id, never its text: the body is
 * `{"documentId": "sha256:…", "variables": …}` (GraphQL over HTTP, persisted documents), which
 * urql's fetchExchange writes by itself for a document that has a `documentId` and no
 * definitions. Goes between the cache and fetchExchange; results leave with the operation that
 * came in, so everything before this exchange keeps seeing the whole document. */
export const persistedDocumentsExchange: Exchange = ({ forward }) => {
  const originals = new WeakMap<Operation, Operation>();
  return (operations$) =>
    pipe(
      operations$,
      map((operation) => {
        const documentId = operation.kind === "teardown" ? undefined : documentIdOf(operation);
        if (!documentId) return operation;
        const byId = makeOperation(operation.kind, operation);
        const query: PersistedDocument = { kind: operation.query.kind, definitions: [], documentId };
        byId.query = query;
        originals.set(byId, operation);
        return byId;
      }),
      forward,
      map((result) => {
        const original = originals.get(result.operation);
        return original ? { ...result, operation: original } : result;
      }),
    );
};
