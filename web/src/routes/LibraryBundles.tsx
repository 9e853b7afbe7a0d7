import {
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  Progress,
  Radio,
  ScrollArea,
  Stack,
  Table,
  Text,
} from "@mantine/core";
import { Download, FileArchive } from "lucide-react";
import { useEffect, useRef, useState } from "react";
import { useClient, useMutation } from "urql";

import { isSessionProblem, pick, problemOf, type Problem } from "../app/errors";
import { libraryArgument, PERSONAL, type LibraryInfo } from "../app/libraries";
import { isLive, usePolling } from "../app/polling";
import { useSession } from "../app/session";
import { FileDrop } from "../components/FileDrop";
import { graphql } from "../gql";
import type { ElementExportStatus, ElementImportConflict, ElementImportOutcome } from "../gql/graphql";

export const ElementExportStartDocument = graphql(`
  mutation ElementExportStart($input: ElementExportInput!) {
    elementExport(input: $input) {
      ... on ElementExportResult {
        export {
          id
          status
          progress
          elementCount
          size
          failureCode
          failureMessage
          expiresAt
          downloadUrl
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

export const ElementExportPollDocument = graphql(`
  query ElementExportPoll($id: ID!) {
    elementExport(id: $id) {
      id
      status
      progress
      elementCount
      size
      failureCode
      failureMessage
      expiresAt
      downloadUrl
    }
  }
`);

export const ElementImportDocument = graphql(`
  mutation ElementImport($input: ElementImportInput!) {
    elementImport(input: $input) {
      ... on ElementImportResult {
        createdCount
        rows {
          name
          outcome
          newName
          notes
          element {
            id
            name
          }
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

interface ExportState {
  id: string;
  status: ElementExportStatus;
  progress: number;
  elementCount: number;
  size: number;
  failureCode: string;
  failureMessage: string;
  expiresAt?: string | null;
  downloadUrl?: string | null;
}

const STATUS_LABELS: Record<ElementExportStatus, string> = {
  QUEUED: "Waiting for a worker",
  RUNNING: "Writing the bundle",
  SUCCEEDED: "Ready to download",
  FAILED: "Failed",
  EXPIRED: "Expired",
};

/** Everything the service said, in one line (for a dialog with no field of its own). */
function sentence(problem: Problem): string {
  return [problem.form, ...Object.values(problem.fields)].filter(Boolean).join(" ");
}

function megabytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

/** The file name the download is saved as: the library's bundle, dated. */
export function bundleFileName(now: Date = new Date()): string {
  return `elements-${now.toISOString().slice(0, 10)}.zip`;
}

/** Starts an export as it opens (of `ids`, or of the whole library when null), shows its
 * progress while a worker writes it, then the link to the bundle and until when it is kept. */
export function ExportDialog({
  opened,
  ids,
  library = null,
  onClose,
}: {
  opened: boolean;
  ids: string[] | null;
  /** The library being exported (null: the personal one). */
  library?: LibraryInfo | null;
  onClose: () => void;
}) {
  const client = useClient();
  const { setSessionLost } = useSession();
  const [, start] = useMutation(ElementExportStartDocument);
  const [job, setJob] = useState<ExportState | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  // Which opening the answer belongs to: one that arrives after the dialog closed is dropped.
  const run = useRef(0);
  const started = useRef(false);

  useEffect(() => {
    if (!opened) {
      started.current = false;
      run.current += 1;
      setJob(null);
      setProblem(null);
      return;
    }
    if (started.current) return;
    started.current = true;
    const mine = run.current;
    // The personal library is the default: only a team's handle is sent.
    const from = libraryArgument(library?.qualifier ?? PERSONAL);
    const where = from ? { library: from } : {};
    void start({ input: ids ? { ids, ...where } : { all: true, ...where } }).then((r) => {
      if (mine !== run.current) return;
      const found = problemOf(r.error, r.data?.elementExport);
      if (found) {
        if (isSessionProblem(found)) setSessionLost(true);
        return setProblem(sentence(found));
      }
      const done = r.data?.elementExport;
      if (done?.__typename === "ElementExportResult") setJob(done.export);
    });
  }, [opened, ids, library, start, setSessionLost]);

  usePolling(opened && !!job && isLive(job.status), async () => {
    if (!job) return false;
    const mine = run.current;
    const r = await client.query(ElementExportPollDocument, { id: job.id }, { requestPolicy: "network-only" }).toPromise();
    const fresh = r.data?.elementExport;
    if (!fresh || fresh.id !== job.id || mine !== run.current) return false;
    const changed = fresh.status !== job.status || fresh.progress !== job.progress;
    setJob(fresh);
    return changed;
  });

  const whole = library?.kind === "TEAM" ? `${library.name}'s whole library` : "your whole library";
  const what = ids ? `${ids.length} selected element${ids.length === 1 ? "" : "s"}` : whole;
  return (
    <Modal opened={opened} onClose={onClose} title="Export elements" size="md">
      <Stack gap="md">
        <Text size="sm" c="dimmed">
          A bundle is a .zip of {what}: images, voices and descriptions, ready to import into another library.
        </Text>
        {problem && (
          <Alert color="red" role="alert" title="The export was refused">
            {problem}
          </Alert>
        )}
        {!problem && !job && <ExportProgress status="QUEUED" progress={0} />}
        {job && isLive(job.status) && <ExportProgress status={job.status} progress={job.progress} />}
        {job?.status === "SUCCEEDED" && (
          <Stack gap="xs">
            <Text>
              {job.elementCount} element{job.elementCount === 1 ? "" : "s"} · {megabytes(job.size)}
            </Text>
            {job.downloadUrl ? (
              <Button
                component="a"
                href={job.downloadUrl}
                download={bundleFileName()}
                leftSection={<Download size={16} aria-hidden />}
                style={{ alignSelf: "flex-start" }}
              >
                Download bundle
              </Button>
            ) : null}
            {job.expiresAt && (
              <Text size="sm" c="dimmed">
                Kept until {new Date(job.expiresAt).toLocaleString()}. The link works for a few minutes: export
                again for a fresh one.
              </Text>
            )}
          </Stack>
        )}
        {job?.status === "FAILED" && (
          <Alert color="red" role="alert" title="The export failed">
            {job.failureMessage || "The bundle could not be written."} Try again, or export fewer elements.
          </Alert>
        )}
        {job?.status === "EXPIRED" && (
          <Alert color="orange" role="alert" title="This bundle has expired">
            It was deleted after a while; export again for a new one.
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Close
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function ExportProgress({ status, progress }: { status: ElementExportStatus; progress: number }) {
  const label = `${STATUS_LABELS[status]}… ${progress}%`;
  return (
    <Stack gap={6}>
      <Text size="sm" aria-live="polite">
        {label}
      </Text>
      <Progress value={progress} animated aria-label={`Export progress, ${progress}%`} size="lg" radius="xl" />
    </Stack>
  );
}

const CONFLICTS: { value: ElementImportConflict; label: string; description: string }[] = [
  { value: "SKIP", label: "Skip", description: "Keep your element; the bundle's one of that name is not imported." },
  { value: "RENAME", label: "Rename", description: "Import it as “Name (2)”, the first free number." },
  {
    value: "REPLACE",
    label: "Replace",
    description: "Put the bundle's type, description, images and voice into yours, as a new version.",
  },
];

const OUTCOMES: Record<ElementImportOutcome, { label: string; color: string }> = {
  CREATED: { label: "Created", color: "green" },
  SKIPPED: { label: "Skipped", color: "gray" },
  RENAMED: { label: "Renamed", color: "blue" },
  REPLACED: { label: "Replaced", color: "orange" },
};

const ZIP_ACCEPT = { "application/zip": [".zip"], "application/x-zip-compressed": [".zip"] };

type ImportReport = {
  createdCount: number;
  rows: { name: string; outcome: ElementImportOutcome; newName?: string | null; notes: string[] }[];
};

/** Import a bundle, all or nothing: the choice for names you already use, then a row per
 * element. A refused bundle shows the service's reason and changes nothing. */
export function ImportDialog({
  opened,
  library = null,
  onClose,
  onImported,
}: {
  opened: boolean;
  /** The library to import into (null: the personal one). */
  library?: LibraryInfo | null;
  onClose: () => void;
  onImported: () => void;
}) {
  const { setSessionLost } = useSession();
  const [state, send] = useMutation(ElementImportDocument);
  const [file, setFile] = useState<File | null>(null);
  const [onConflict, setOnConflict] = useState<ElementImportConflict>("SKIP");
  const [problem, setProblem] = useState<Problem | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);

  const close = () => {
    setFile(null);
    setProblem(null);
    setReport(null);
    setOnConflict("SKIP");
    onClose();
  };

  const submit = async () => {
    if (!file) return setProblem({ fields: { bundle: "Choose a bundle (.zip) first." }, form: null, codes: [] });
    setProblem(null);
    const r = await send(
      { input: { bundle: file, onConflict, ...(library?.kind === "TEAM" ? { library: library.qualifier } : {}) } },
      { additionalTypenames: ["Element", "ElementConnection", "Me", "Library"] },
    );
    const found = pick(problemOf(r.error, r.data?.elementImport), ["bundle"]);
    if (found) {
      if (isSessionProblem(found)) setSessionLost(true);
      return setProblem(found);
    }
    const done = r.data?.elementImport;
    if (done?.__typename === "ElementImportResult") {
      setReport(done);
      onImported();
    }
  };

  return (
    <Modal
      opened={opened}
      onClose={close}
      title={library?.kind === "TEAM" ? `Import elements into ${library.name}` : "Import elements"}
      size={report ? "xl" : "lg"}
    >
      {report ? (
        <Stack gap="md">
          <Text fw={600} aria-live="polite">
            {report.createdCount} element{report.createdCount === 1 ? "" : "s"} created
          </Text>
          <ScrollArea type="auto">
            <Table striped highlightOnHover miw={620} aria-label="Import report">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Name</Table.Th>
                  <Table.Th w={120}>Outcome</Table.Th>
                  <Table.Th w={140}>New name</Table.Th>
                  <Table.Th>Notes</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {report.rows.map((row, i) => (
                  <Table.Tr key={`${i}-${row.name}`}>
                    <Table.Td>{row.name}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={OUTCOMES[row.outcome].color} style={{ overflow: "visible" }} miw="max-content">
                        {OUTCOMES[row.outcome].label}
                      </Badge>
                    </Table.Td>
                    <Table.Td>{row.newName ?? "—"}</Table.Td>
                    <Table.Td>
                      {row.notes.length ? (
                        <Text size="sm">{row.notes.join(" ")}</Text>
                      ) : (
                        <Text size="sm" c="dimmed">
                          —
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </ScrollArea>
          <Group justify="flex-end">
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <Stack gap="md">
          <Text size="sm" c="dimmed">
            A bundle another library exported. It goes in whole or not at all: if any file is refused, nothing is added.
          </Text>
          <FileDrop
            label="Bundle (.zip)"
            hint={file ? `${file.name} · choose another to replace it` : "Drop the .zip here, or press to choose it"}
            accept={ZIP_ACCEPT}
            error={problem?.fields.bundle ?? null}
            onFiles={(files) => {
              setFile(files[0] ?? null);
              setProblem(null);
            }}
          >
            {file ? (
              <Group gap="sm" justify="center">
                <FileArchive size={24} color="var(--mantine-color-violet-4)" aria-hidden />
                <Text fw={600}>{file.name}</Text>
                <Text size="sm" c="dimmed">
                  {megabytes(file.size)} · choose another to replace it
                </Text>
              </Group>
            ) : undefined}
          </FileDrop>
          <Radio.Group
            label="If a name exists"
            value={onConflict}
            onChange={(v) => setOnConflict(v as ElementImportConflict)}
          >
            <Stack gap="xs" mt={6}>
              {CONFLICTS.map((c) => (
                <Radio key={c.value} value={c.value} label={c.label} description={c.description} />
              ))}
            </Stack>
          </Radio.Group>
          {problem?.form && (
            <Alert color="red" role="alert" title="The bundle was refused; nothing was imported">
              {problem.form}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={close}>
              Cancel
            </Button>
            <Button onClick={submit} loading={state.fetching}>
              Import
            </Button>
          </Group>
        </Stack>
      )}
    </Modal>
  );
}
