import { Alert, Button, Code, CopyButton, Group, Stack, Text } from "@mantine/core";
import { Check, Copy, KeyRound } from "lucide-react";

/** A secret the service shows only once: the value, a copy button, and the way to dismiss it.
 * Once dismissed it is gone from the page (the service keeps only a hash or a masked form). */
export function SecretOnce({ label, secret, onDone }: { label: string; secret: string; onDone: () => void }) {
  return (
    <Alert
      color="violet"
      variant="light"
      radius="lg"
      icon={<KeyRound size={18} aria-hidden />}
      title={`Copy ${label} now`}
      role="region"
      aria-label={`New ${label}`}
    >
      <Stack gap="xs">
        <Text size="sm">It is shown only this once. Store it somewhere safe: if you lose it, create a new one.</Text>
        <Code block style={{ wordBreak: "break-all", whiteSpace: "pre-wrap" }} aria-label={`The ${label}`}>
          {secret}
        </Code>
        <Group gap="xs">
          <CopyButton value={secret}>
            {({ copied, copy }) => (
              <Button
                size="xs"
                variant={copied ? "light" : "filled"}
                color={copied ? "teal" : "violet"}
                leftSection={copied ? <Check size={14} aria-hidden /> : <Copy size={14} aria-hidden />}
                onClick={copy}
                aria-label={`Copy the ${label}`}
              >
                {copied ? "Copied" : "Copy"}
              </Button>
            )}
          </CopyButton>
          <Button size="xs" variant="default" onClick={onDone}>
            I've stored it
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
