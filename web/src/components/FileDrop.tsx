import { Group, Stack, Text } from "@mantine/core";
import { Upload } from "lucide-react";
import { useId, type ReactNode } from "react";
import { useDropzone, type Accept } from "react-dropzone";

export const IMAGE_ACCEPT: Accept = {
  "image/jpeg": [".jpg", ".jpeg"],
  "image/png": [".png"],
  "image/webp": [".webp"],
};
export const AUDIO_ACCEPT: Accept = {
  "audio/*": [".wav", ".mp3", ".m4a", ".ogg", ".flac", ".aac", ".webm"],
};
export const VIDEO_ACCEPT: Accept = {
  "video/mp4": [".mp4", ".m4v"],
  "video/quicktime": [".mov"],
  "video/webm": [".webm"],
};

interface Props {
  /** The accessible name of the drop area and of its file input. */
  label: string;
  hint: string;
  accept: Accept;
  multiple?: boolean;
  error?: string | null;
  disabled?: boolean;
  onFiles: (files: File[]) => void;
  children?: ReactNode;
}

/** A drop area that is also a button (Enter or Space opens the file chooser); the service's
 * error for the file shows under it. */
export function FileDrop({ label, hint, accept, multiple = false, error, disabled, onFiles, children }: Props) {
  const errorId = useId();
  const { getRootProps, getInputProps, isDragActive, fileRejections } = useDropzone({
    accept,
    multiple,
    disabled,
    onDropAccepted: onFiles,
  });
  const rejected = fileRejections.length
    ? `“${fileRejections[0].file.name}” isn't a file this accepts (${Object.values(accept).flat().join(", ")}).`
    : null;
  const shown = error ?? rejected;
  return (
    <Stack gap={6}>
      <div
        {...getRootProps({
          className: "dropzone",
          role: "button",
          "aria-label": label,
          "aria-describedby": shown ? errorId : undefined,
          "aria-invalid": shown ? true : undefined,
        })}
        data-active={isDragActive}
        data-error={!!shown}
      >
        <input {...getInputProps({ "aria-label": `${label} file` })} />
        {children ?? (
          <Stack align="center" gap={6}>
            <Upload size={28} color="var(--mantine-color-violet-4)" aria-hidden />
            <Text fw={600}>{isDragActive ? "Drop it here" : label}</Text>
            <Text size="sm" c="dimmed">
              {hint}
            </Text>
          </Stack>
        )}
      </div>
      {shown && (
        <Group gap={6}>
          <Text id={errorId} size="sm" c="red.5" role="alert">
            {shown}
          </Text>
        </Group>
      )}
    </Stack>
  );
}
