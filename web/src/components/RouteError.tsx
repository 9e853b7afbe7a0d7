import { Button, Center, Stack, Text, Title } from "@mantine/core";
import { isRouteErrorResponse, useRouteError } from "react-router";

/** A screen that failed to load (e.g. a chunk missing after a new build): say so, offer a reload. */
export function RouteError() {
  const error = useRouteError();
  const detail = isRouteErrorResponse(error)
    ? `${error.status} ${error.statusText}`
    : error instanceof Error
      ? error.message
      : "Unknown error";
  return (
    <Center h="100vh" bg="dark.8">
      <Stack align="center" gap="sm" maw={480} p="md">
        <Title order={1} size="h2">
          This screen could not load
        </Title>
        <Text c="dimmed" ta="center">
          {detail}. The studio may have been updated: reload to get the new version.
        </Text>
        <Button onClick={() => window.location.reload()}>Reload</Button>
      </Stack>
    </Center>
  );
}
