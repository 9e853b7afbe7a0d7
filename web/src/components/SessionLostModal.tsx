import { Modal, Text } from "@mantine/core";

import { useSession } from "../app/session";
import { AuthForm } from "./AuthForm";

/** Shown when a request finds the session gone: signing in again here keeps the page, so a
 * half-filled form or wizard carries on where it was. */
export function SessionLostModal() {
  const { sessionLost, setSessionLost, refresh } = useSession();
  return (
    <Modal
      opened={sessionLost}
      onClose={() => setSessionLost(false)}
      title="Your session has ended"
      centered
    >
      <Text size="sm" c="dimmed" mb="md">
        Sign in again to carry on. What you entered on this page is kept; press the button you
        pressed before once you are back.
      </Text>
      <AuthForm
        mode="login"
        onDone={() => {
          setSessionLost(false);
          refresh();
        }}
      />
    </Modal>
  );
}
