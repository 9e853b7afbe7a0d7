import type { CombinedError } from "urql";

/** What went wrong with one operation, sorted by where to show it: `fields` by the input
 * field the service named (shown at that field), `form` for the rest (shown at the form). */
export interface Problem {
  fields: Record<string, string>;
  form: string | null;
  codes: string[];
}

type Message = { field?: string | null; message: string; code?: string | null };
type Payload = object | null | undefined;

export const SESSION_CODES = new Set(["NOT_AUTHENTICATED"]);

/** The Problem of a mutation result (its OperationInfo payload) or of a request that failed,
 * or null when it went through. */
export function problemOf(error: CombinedError | undefined, payload?: Payload): Problem | null {
  if (error) {
    const codes = error.graphQLErrors
      .map((e) => e.extensions?.code)
      .filter((c): c is string => typeof c === "string");
    const message = error.networkError
      ? "The service can't be reached. Check your connection and try again."
      : error.graphQLErrors.map((e) => e.message).join(" ") || error.message;
    return { fields: {}, form: message, codes };
  }
  if (payload && "messages" in payload && Array.isArray(payload.messages)) {
    const fields: Record<string, string> = {};
    const rest: string[] = [];
    const codes: string[] = [];
    for (const m of payload.messages as Message[]) {
      if (m.code) codes.push(m.code);
      if (m.field && !(m.field in fields)) fields[m.field] = m.message;
      else rest.push(m.message);
    }
    return { fields, form: rest.length ? rest.join(" ") : null, codes };
  }
  return null;
}

/** Whether the problem is a lost session (sign in again, then retry). */
export function isSessionProblem(problem: Problem | null): boolean {
  return !!problem && problem.codes.some((c) => SESSION_CODES.has(c));
}

/** Pulls out the errors of the given fields (and `field.N` sub-fields), leaving the rest as
 * the form's error so nothing the service said is dropped. */
export function pick(problem: Problem | null, known: string[]): Problem | null {
  if (!problem) return null;
  const fields: Record<string, string> = {};
  const stray: string[] = problem.form ? [problem.form] : [];
  for (const [field, message] of Object.entries(problem.fields)) {
    const root = field.split(".")[0];
    if (known.includes(field) || known.includes(root)) fields[field] = message;
    else stray.push(message);
  }
  return { fields, form: stray.length ? stray.join(" ") : null, codes: problem.codes };
}
