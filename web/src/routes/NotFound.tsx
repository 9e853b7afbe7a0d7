import { Button, Center, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";

export default function NotFound() {
  return (
    <Center h="60vh">
      <Stack align="center" gap="sm">
        <Title order={1}>Nothing here</Title>
        <Text c="dimmed">This page doesn't exist. Your elements are in the library.</Text>
        <Button component={Link} to="/library">
          Go to the library
        </Button>
      </Stack>
    </Center>
  );
}
