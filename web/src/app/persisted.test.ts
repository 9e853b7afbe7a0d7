import { describe, expect, it } from "vitest";

import { JobProgressDocument, UpdateDocument } from "./documents";
import { makeClient } from "./client";
import { SubjectTypeDetectDocument } from "../gql/graphql";

type Sent = { body: BodyInit | null | undefined };

/** A fetch that records what the client sends and answers with `data`. */
function recordingFetch(data: unknown) {
  const sent: Sent[] = [];
  const fetch = async (_url: RequestInfo | URL, init?: RequestInit) => {
    sent.push({ body: init?.body });
    return new Response(JSON.stringify({ data }), {
      headers: { "Content-Type": "application/json" },
    });
  };
  return { sent, fetch: fetch as typeof globalThis.fetch };
}

const hashOf = (doc: unknown) => (doc as { __meta__: { hash: string } }).__meta__.hash;

describe("persistedDocumentsExchange", () => {
  it("sends a query by its id with its variables, never its text", async () => {
    const { sent, fetch } = recordingFetch({
      __typename: "Query",
      generationJob: null,
    });
    const result = await makeClient("/graphql")
      .query(JobProgressDocument, { id: "job-1" }, { fetch })
      .toPromise();
    expect(sent).toHaveLength(1);
    const body = JSON.parse(String(sent[0].body));
    expect(body).toEqual({ documentId: hashOf(JobProgressDocument), variables: { id: "job-1" } });
    expect(hashOf(JobProgressDocument)).toMatch(/^sha256:[0-9a-f]{64}$/);
    // The result leaves with the whole document, as the cache and the hooks knew it.
    expect(result.operation.query.definitions.length).toBeGreaterThan(0);
    expect(result.data).toEqual({ __typename: "Query", generationJob: null });
  });

  it("sends mutations by id too", async () => {
    const { sent, fetch } = recordingFetch({ __typename: "Mutation", elementUpdate: null });
    await makeClient()
      .mutation(UpdateDocument, { input: { id: "e1", version: 1, name: "x" } }, { fetch })
      .toPromise();
    const body = JSON.parse(String(sent[0].body));
    expect(body.query).toBeUndefined();
    expect(body.documentId).toBe(hashOf(UpdateDocument));
  });

  it("puts the id in the operations part of a multipart upload", async () => {
    const { sent, fetch } = recordingFetch({ __typename: "Query", subjectTypeDetect: null });
    const image = new File(["x"], "a.png", { type: "image/png" });
    await makeClient().query(SubjectTypeDetectDocument, { image }, { fetch }).toPromise();
    const form = sent[0].body as FormData;
    expect(form).toBeInstanceOf(FormData);
    const operations = JSON.parse(String(form.get("operations")));
    expect(operations).toEqual({
      documentId: hashOf(SubjectTypeDetectDocument),
      variables: { image: null },
    });
  });
});
