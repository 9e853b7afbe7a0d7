import { CombinedError } from "urql";
import { describe, expect, it } from "vitest";

import { isSessionProblem, pick, problemOf } from "./errors";

describe("problemOf", () => {
  it("is null when the mutation went through", () => {
    expect(problemOf(undefined, { __typename: "ElementResult", element: {} })).toBeNull();
  });

  it("puts each message at its field and keeps the codes", () => {
    const problem = problemOf(undefined, {
      __typename: "OperationInfo",
      messages: [
        { field: "name", message: "You already have an element named “Ada”.", code: "NAME_TAKEN" },
        { field: "extraImages.1", message: "At least 300 px a side.", code: "IMAGE_TOO_SMALL" },
        { field: null, message: "You have reached your limit.", code: "ELEMENT_LIMIT_REACHED" },
      ],
    });
    expect(problem).toEqual({
      fields: { name: "You already have an element named “Ada”.", "extraImages.1": "At least 300 px a side." },
      form: "You have reached your limit.",
      codes: ["NAME_TAKEN", "IMAGE_TOO_SMALL", "ELEMENT_LIMIT_REACHED"],
    });
  });

  it("turns a transport failure into a form message with the GraphQL codes", () => {
    const error = new CombinedError({
      graphQLErrors: [{ message: "You must be signed in.", extensions: { code: "NOT_AUTHENTICATED" } }],
    });
    const problem = problemOf(error);
    expect(problem?.form).toBe("You must be signed in.");
    expect(isSessionProblem(problem)).toBe(true);
  });

  it("says the service is unreachable on a network error", () => {
    const problem = problemOf(new CombinedError({ networkError: new Error("Failed to fetch") }));
    expect(problem?.form).toMatch(/can't be reached/);
    expect(isSessionProblem(problem)).toBe(false);
  });
});

describe("pick", () => {
  it("keeps the step's fields and moves the others to the form message", () => {
    const picked = pick(
      { fields: { "extraImages.0": "Too small.", voiceId: "No such voice." }, form: null, codes: [] },
      ["extraImages"],
    );
    expect(picked).toEqual({ fields: { "extraImages.0": "Too small." }, form: "No such voice.", codes: [] });
  });
});
