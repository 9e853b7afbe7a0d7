import { createContext, use, useCallback, useMemo, useState, type ReactNode } from "react";
import { useQuery } from "urql";

import { graphql } from "../gql";
import type { ViewerQuery } from "../gql/graphql";

export const ViewerDocument = graphql(`
  query Viewer {
    me {
      username
      displayName
      isMember
      tier {
        code
        name
      }
      creditBalance
      elementCount
      elementLimit
      canCreateElements
      canEditElements
      elementQuotaReason
      freeMultiviewUsesPerDay
      freeMultiviewUsesLeftToday
      multiviewPriceCredits
    }
  }
`);

export type Viewer = NonNullable<ViewerQuery["me"]>;

interface Session {
  me: Viewer | null;
  loading: boolean;
  /** Re-reads the viewer from the network (after sign in/out, a create, a job). */
  refresh: () => void;
  /** A request found the session gone: ask to sign in again without leaving the page. */
  sessionLost: boolean;
  setSessionLost: (lost: boolean) => void;
}

const SessionContext = createContext<Session | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [result, reexecute] = useQuery({ query: ViewerDocument, requestPolicy: "network-only" });
  const [sessionLost, setSessionLost] = useState(false);
  const refresh = useCallback(() => reexecute({ requestPolicy: "network-only" }), [reexecute]);
  const value = useMemo<Session>(
    () => ({
      me: result.data?.me ?? null,
      loading: result.fetching && !result.data,
      refresh,
      sessionLost,
      setSessionLost,
    }),
    [result.data, result.fetching, refresh, sessionLost],
  );
  return <SessionContext value={value}>{children}</SessionContext>;
}

export function useSession(): Session {
  const session = use(SessionContext);
  if (!session) throw new Error("useSession outside SessionProvider");
  return session;
}
