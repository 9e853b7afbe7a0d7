import { Alert, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { useMutation } from "urql";

import { problemOf, type Problem } from "../app/errors";
import { graphql } from "../gql";

const LoginDocument = graphql(`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      ... on LoginResult {
        user {
          username
        }
      }
      ... on OperationInfo {
        messages {
          field
          message
          code
        }
      }
    }
  }
`);

const RegisterDocument = graphql(`
  mutation Register($input: AccountRegisterInput!) {
    accountRegister(input: $input) {
      ... on AccountRegisterResult {
        user {
          username
        }
      }
      ... on OperationInfo {
        messages {
          field
          message
          code
        }
      }
    }
  }
`);

interface Props {
  mode: "login" | "signup";
  onDone: () => void;
  /** Pre-filled and locked, e.g. when signing in again after the session ended. */
  username?: string;
}

/** Sign in or sign up; the service's errors show at their field, what was typed stays. */
export function AuthForm({ mode, onDone, username: fixedUser }: Props) {
  const [username, setUsername] = useState(fixedUser ?? "");
  const [password, setPassword] = useState("");
  const [email, setEmail] = useState("");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [loginState, login] = useMutation(LoginDocument);
  const [registerState, register] = useMutation(RegisterDocument);
  const busy = loginState.fetching || registerState.fetching;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblem(null);
    if (mode === "login") {
      const result = await login({ input: { username, password } });
      const found = problemOf(result.error, result.data?.login);
      if (found) return setProblem(found);
    } else {
      const result = await register({ input: { username, password, email } });
      const found = problemOf(result.error, result.data?.accountRegister);
      if (found) return setProblem(found);
    }
    onDone();
  };

  const known = ["username", "password", "email"];
  const stray = problem
    ? [problem.form, ...Object.entries(problem.fields).filter(([f]) => !known.includes(f)).map(([, m]) => m)]
        .filter(Boolean)
        .join(" ")
    : "";

  return (
    <form onSubmit={submit} noValidate aria-label={mode === "login" ? "Log in" : "Sign up"}>
      <Stack gap="md">
        <TextInput
          label="Username"
          autoComplete="username"
          value={username}
          onChange={(e) => setUsername(e.currentTarget.value)}
          error={problem?.fields.username}
          readOnly={!!fixedUser}
          required
          withAsterisk={false}
          data-autofocus
        />
        {mode === "signup" && (
          <TextInput
            label="Email (optional)"
            type="email"
            autoComplete="email"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={problem?.fields.email}
          />
        )}
        <PasswordInput
          label="Password"
          autoComplete={mode === "login" ? "current-password" : "new-password"}
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
          error={problem?.fields.password}
          // Mantine's PasswordInput marks its error only with data-invalid.
          aria-invalid={!!problem?.fields.password}
          required
          withAsterisk={false}
        />
        {stray && (
          <Alert color="red" variant="light" role="alert">
            {stray}
          </Alert>
        )}
        <Button type="submit" loading={busy} size="md">
          {mode === "login" ? "Log in" : "Create account"}
        </Button>
      </Stack>
    </form>
  );
}
