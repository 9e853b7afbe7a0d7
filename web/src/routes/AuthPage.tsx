import { Anchor, Center, Paper, Stack, Text, Title } from "@mantine/core";
import { Navigate, Link, useNavigate, useSearchParams } from "react-router";

import { useSession } from "../app/session";
import { AuthForm } from "../components/AuthForm";

/** Only paths inside the studio: `next` comes from the URL, so never an outside address. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") ? next : "/library";
}

export function AuthPage({ mode }: { mode: "login" | "signup" }) {
  const { me, refresh } = useSession();
  const navigate = useNavigate();
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  if (me) return <Navigate to={next} replace />;
  const title = mode === "login" ? "Welcome back" : "Create your studio account";
  return (
    <Center mih="calc(100vh - 120px)">
      <Paper withBorder p="xl" radius="lg" w="100%" maw={420} bg="dark.7">
        <Stack gap="lg">
          <Stack gap={4}>
            <Title order={1} size="h2">
              {title}
            </Title>
            <Text c="dimmed" size="sm">
              {mode === "login"
                ? "Log in to your Element Library."
                : "Characters, props and scenes you can reuse in every video."}
            </Text>
          </Stack>
          <AuthForm
            mode={mode}
            onDone={() => {
              refresh();
              navigate(mode === "signup" ? "/library" : next, { replace: true });
            }}
          />
          <Text size="sm" c="dimmed" ta="center">
            {mode === "login" ? (
              <>
                New here? <Anchor component={Link} to="/signup">Create an account</Anchor>
              </>
            ) : (
              <>
                Already have an account? <Anchor component={Link} to="/login">Log in</Anchor>
              </>
            )}
          </Text>
        </Stack>
      </Paper>
    </Center>
  );
}
