import { useCallback, useEffect, useRef, useState } from "react";
import { useClient, type TypedDocumentNode } from "urql";

import { problemOf, type Problem } from "./errors";

export interface Connection<N> {
  pageInfo: { hasNextPage: boolean; endCursor?: string | null };
  edges: { node: N }[];
}

export interface Pages<N> {
  nodes: N[];
  /** The first page has not arrived yet. */
  loading: boolean;
  /** A further page is on its way. */
  loadingMore: boolean;
  hasMore: boolean;
  problem: Problem | null;
  loadMore: () => void;
  /** Drops what was read and reads the first page again (after a create or delete). */
  reload: () => void;
}

/** Pages of a relay connection read forward with `first`/`after`, kept in the order the
 * service gives (newest first for every list it has). Each page is a network read: the list is
 * a record of what happened, so a cached page could hide the newest rows. */
export function useConnectionPages<Q, V extends { first?: number | null; after?: string | null }, N>(
  query: TypedDocumentNode<Q, V>,
  variables: Omit<V, "first" | "after">,
  select: (data: Q) => Connection<N> | null | undefined,
  pageSize = 20,
): Pages<N> {
  const client = useClient();
  const [nodes, setNodes] = useState<N[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [hasMore, setHasMore] = useState(false);
  const [loading, setLoading] = useState(true);
  const [loadingMore, setLoadingMore] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  // Answers of an older generation (before a reload) are dropped so rows never mix.
  const generation = useRef(0);
  const key = JSON.stringify(variables);
  const selectRef = useRef(select);
  selectRef.current = select;

  const read = useCallback(
    async (after: string | null) => {
      const mine = generation.current;
      const vars = { ...JSON.parse(key), first: pageSize, after } as V;
      const result = await client.query(query, vars, { requestPolicy: "network-only" }).toPromise();
      if (mine !== generation.current) return;
      const found = problemOf(result.error);
      const connection = result.data ? selectRef.current(result.data) : null;
      if (found || !connection) {
        setProblem(found ?? { fields: {}, form: "The list could not be read. Try again.", codes: [] });
      } else {
        setProblem(null);
        const page = connection.edges.map((e) => e.node);
        setNodes((old) => (after ? [...old, ...page] : page));
        setCursor(connection.pageInfo.endCursor ?? null);
        setHasMore(connection.pageInfo.hasNextPage);
      }
      setLoading(false);
      setLoadingMore(false);
    },
    [client, query, key, pageSize],
  );

  const reload = useCallback(() => {
    generation.current += 1;
    setLoading(true);
    void read(null);
  }, [read]);

  useEffect(() => {
    reload();
  }, [reload]);

  const loadMore = useCallback(() => {
    if (!cursor || loadingMore) return;
    setLoadingMore(true);
    void read(cursor);
  }, [cursor, loadingMore, read]);

  return { nodes, loading, loadingMore, hasMore, problem, loadMore, reload };
}
