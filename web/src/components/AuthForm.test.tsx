import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";

import { fakeClient, renderWith } from "../test/render";
import { AuthForm } from "./AuthForm";

describe("AuthForm", () => {
  it("shows the service's errors at their fields and keeps what was typed", async () => {
    const { client, calls } = fakeClient(() => ({
      accountRegister: {
        __typename: "OperationInfo",
        messages: [
          { field: "username", message: "That username is taken.", code: "USERNAME_TAKEN" },
          { field: "password", message: "This password is too common.", code: "PASSWORD_TOO_WEAK" },
        ],
      },
    }));
    const done = vi.fn();
    renderWith(<AuthForm mode="signup" onDone={done} />, client);
    await userEvent.type(screen.getByLabelText(/Username/), "ada");
    await userEvent.type(screen.getByLabelText(/^Password/), "password");
    await userEvent.click(screen.getByRole("button", { name: "Create account" }));

    await waitFor(() => expect(screen.getByText("That username is taken.")).toBeTruthy());
    expect(screen.getByText("This password is too common.")).toBeTruthy();
    expect((screen.getByLabelText(/Username/) as HTMLInputElement).value).toBe("ada");
    expect(screen.getByLabelText(/Username/).getAttribute("aria-invalid")).toBe("true");
    expect(done).not.toHaveBeenCalled();
    expect(calls[0].variables).toEqual({ input: { username: "ada", password: "password", email: "" } });
  });

  it("signs in and hands over", async () => {
    const { client } = fakeClient(() => ({ login: { __typename: "LoginResult", user: { username: "ada" } } }));
    const done = vi.fn();
    renderWith(<AuthForm mode="login" onDone={done} />, client);
    await userEvent.type(screen.getByLabelText(/Username/), "ada");
    await userEvent.type(screen.getByLabelText(/^Password/), "s3cret-pass");
    await userEvent.keyboard("{Enter}");
    await waitFor(() => expect(done).toHaveBeenCalledOnce());
  });
});
