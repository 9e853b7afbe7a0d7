import { Badge, CloseButton, Group, Paper, Text, Textarea } from "@mantine/core";
import { Users } from "lucide-react";
import { forwardRef, useCallback, useEffect, useId, useImperativeHandle, useRef, useState } from "react";
import { useClient } from "urql";

import { TYPE_LABELS } from "../app/labels";
import { graphql } from "../gql";
import type { ElementType } from "../gql/graphql";

const MentionSuggestionsDocument = graphql(`
  query MentionSuggestions($query: String!, $first: Int!) {
    mentionSuggestions(query: $query, first: $first) {
      id
      name
      type
      mention
      libraryQualifier
      libraryName
    }
  }
`);

export interface Suggestion {
  id: string;
  name: string;
  type: ElementType;
  /** The text to insert: `[@Name]`, or `[@Name@handle]` when the name alone is ambiguous. */
  mention: string;
  libraryQualifier: string;
  libraryName: string;
}

/** How an option is named: the element's name, and its team's name when it is a team's. */
export function optionName(s: Pick<Suggestion, "name" | "libraryQualifier" | "libraryName">): string {
  return s.libraryQualifier === "me" ? s.name : `${s.name} (${s.libraryName})`;
}

/** The `@…` being typed just before the caret: where its `@` is and what follows it, or null
 * when the caret is not in one. A mention already closed (`[@Name]`) is not one, nor is an
 * `@` inside a word (an e-mail address). */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at < 0) return null;
  const query = before.slice(at + 1);
  if (query.length > 40 || /[\n\r[\]@]/.test(query) || query.startsWith(" ")) return null;
  const prev = at > 0 ? before[at - 1] : "";
  if (prev === "[") return null;
  if (prev && !/[\s("'“«]/.test(prev)) return null;
  return { start: at, query };
}

/** The mentions written in a prompt, each name once, in order. */
export function mentionsIn(text: string): string[] {
  const seen = new Map<string, string>();
  for (const m of text.matchAll(/\[@\s*([^\]\n]+?)\s*\]/g)) {
    const key = m[1].toLowerCase();
    if (!seen.has(key)) seen.set(key, m[1]);
  }
  return [...seen.values()];
}

/** The prompt without any `[@name]` of this name (case-insensitive), tidied of the double
 * spaces that leaves. */
export function removeMention(text: string, name: string): string {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return text
    .replace(new RegExp(`\\[@\\s*${escaped}\\s*\\] ?`, "gi"), "")
    .replace(/[ \t]{2,}/g, " ")
    .replace(/ +([,.!?;:])/g, "$1");
}

/** Elements already seen whose names start with, then contain, what is typed. */
export function localMatches(pool: Map<string, Suggestion>, query: string, first = 8): Suggestion[] {
  const q = query.trim().toLowerCase();
  const all = [...pool.values()];
  const starts = all.filter((s) => s.name.toLowerCase().startsWith(q));
  const contains = all.filter((s) => !s.name.toLowerCase().startsWith(q) && s.name.toLowerCase().includes(q));
  const byName = (a: Suggestion, b: Suggestion) => a.name.localeCompare(b.name);
  return [...starts.sort(byName), ...contains.sort(byName)].slice(0, first);
}

export interface MentionPromptHandle {
  /** Puts `[@Name]` at the caret (or the end) and focuses the prompt. */
  insert: (mention: string) => void;
  focus: () => void;
}

interface Props {
  value: string;
  onChange: (value: string) => void;
  error?: React.ReactNode;
  description?: React.ReactNode;
  /** How long a suggestion request may wait after a key press (ms). */
  debounceMs?: number;
}

/** The prompt box: typing `@` opens the "Elements" listbox fed by `mentionSuggestions`
 * (arrows move, Enter or Tab inserts `[@Name]`, Esc closes; a click inserts too). */
export const MentionPrompt = forwardRef<MentionPromptHandle, Props>(function MentionPrompt(
  { value, onChange, error, description, debounceMs = 0 },
  ref,
) {
  const client = useClient();
  const textarea = useRef<HTMLTextAreaElement>(null);
  const listId = useId();
  const [token, setToken] = useState<{ start: number; query: string } | null>(null);
  const [dismissed, setDismissed] = useState<number | null>(null);
  const [items, setItems] = useState<Suggestion[] | null>(null);
  const [itemsFor, setItemsFor] = useState<string | null>(null);
  const [active, setActive] = useState(0);
  const asked = useRef<{ query: string; at: number } | null>(null);
  const pendingCaret = useRef<number | null>(null);
  const keyAt = useRef(0);

  const open = token !== null && dismissed !== token.start;

  const readToken = useCallback(() => {
    const el = textarea.current;
    if (!el) return;
    const found = mentionAt(el.value, el.selectionStart ?? el.value.length);
    setToken((old) => (old?.start === found?.start && old?.query === found?.query ? old : found));
    if (!found) setDismissed(null);
  }, []);

  // Elements seen in any answer: what is typed next is first matched against them, so the
  // list follows each key press at once; the service's answer (which also ranks close names)
  // replaces it when it arrives. The first `@` is answered from a list fetched on focus.
  const pool = useRef(new Map<string, Suggestion>());
  const answers = useRef(new Map<string, Suggestion[]>());
  const remember = useCallback((q: string, list: Suggestion[]) => {
    answers.current.set(q.toLowerCase(), list);
    for (const s of list) pool.current.set(s.id, s);
  }, []);
  const warmed = useRef(false);
  const warm = useCallback(() => {
    if (warmed.current) return;
    warmed.current = true;
    void client
      .query(MentionSuggestionsDocument, { query: "", first: 50 }, { requestPolicy: "network-only" })
      .toPromise()
      .then((r) => {
        const list = r.data?.mentionSuggestions ?? [];
        for (const s of list) pool.current.set(s.id, s);
        if (!answers.current.has("")) answers.current.set("", list.slice(0, 8));
      });
  }, [client, remember]);

  const show = useCallback((q: string, list: Suggestion[]) => {
    setItems((old) => {
      // Keep the highlighted element highlighted when a fresher list arrives.
      setActive((i) => {
        const id = old?.[i]?.id;
        const kept = id ? list.findIndex((s) => s.id === id) : -1;
        return kept >= 0 ? kept : 0;
      });
      return list;
    });
    setItemsFor(q);
  }, []);

  // Ask for suggestions whenever the typed query changes; only the newest answer counts.
  const query = open ? token.query : null;
  useEffect(() => {
    if (query === null) return;
    let live = true;
    // Timed from the key press that changed the query (the input event), not from this effect.
    const at = keyAt.current || performance.now();
    asked.current = { query, at };
    const known = answers.current.get(query.toLowerCase()) ?? localMatches(pool.current, query);
    if (known.length) show(query, known);
    const timer = window.setTimeout(async () => {
      const result = await client
        .query(MentionSuggestionsDocument, { query, first: 8 }, { requestPolicy: "network-only" })
        .toPromise();
      if (!live) return;
      const list = result.data?.mentionSuggestions ?? [];
      remember(query, list);
      try {
        performance.measure("mention-roundtrip", { start: at, end: performance.now() });
      } catch {
        /* measuring is best effort */
      }
      show(query, list);
    }, debounceMs);
    return () => {
      live = false;
      window.clearTimeout(timer);
    };
  }, [query, client, debounceMs, remember, show]);

  // How long from the key press to suggestions on screen, for the budget (≤ 100 ms).
  useEffect(() => {
    const a = asked.current;
    if (a && itemsFor === a.query && items) {
      try {
        performance.measure("mention-picker", { start: a.at, end: performance.now() });
      } catch {
        /* measuring is best effort */
      }
      asked.current = null;
    }
  }, [items, itemsFor]);

  useEffect(() => {
    if (pendingCaret.current !== null && textarea.current) {
      const at = pendingCaret.current;
      pendingCaret.current = null;
      textarea.current.setSelectionRange(at, at);
    }
  }, [value]);

  const insertAt = useCallback(
    (start: number, end: number, mention: string) => {
      const after = value.slice(end);
      const pad = after.startsWith(" ") ? "" : " ";
      const lead = start > 0 && !/\s$/.test(value.slice(0, start)) ? " " : "";
      const next = value.slice(0, start) + lead + mention + pad + after;
      pendingCaret.current = start + lead.length + mention.length + pad.length;
      onChange(next);
      setToken(null);
      setItems(null);
      setItemsFor(null);
      textarea.current?.focus();
    },
    [value, onChange],
  );

  const choose = (s: Suggestion) => {
    if (!token) return;
    const caret = token.start + 1 + token.query.length;
    insertAt(token.start, caret, s.mention);
  };

  useImperativeHandle(
    ref,
    () => ({
      insert: (mention: string) => {
        const el = textarea.current;
        const caret = el && document.activeElement === el ? el.selectionStart : value.length;
        insertAt(caret, caret, mention);
      },
      focus: () => textarea.current?.focus(),
    }),
    [insertAt, value],
  );

  const shown = open && items !== null && itemsFor !== null;
  const onKeyDown = (e: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (!open) return;
    if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      setDismissed(token.start);
      return;
    }
    if (!shown || !items.length) return;
    if (e.key === "ArrowDown") {
      e.preventDefault();
      setActive((i) => (i + 1) % items.length);
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      setActive((i) => (i - 1 + items.length) % items.length);
    } else if (e.key === "Enter" || e.key === "Tab") {
      e.preventDefault();
      choose(items[Math.min(active, items.length - 1)]);
    }
  };

  const optionId = (i: number) => `${listId}-option-${i}`;
  return (
    <div style={{ position: "relative" }}>
      <Textarea
        ref={textarea}
        label="Prompt"
        description={description}
        placeholder={'Type @ to call up an element. Shot 1 (3s): [@Maya] walks in, the camera pans left. She says "Hello."'}
        value={value}
        onChange={(e) => {
          keyAt.current = performance.now();
          onChange(e.currentTarget.value);
          // The caret has moved by the time this runs.
          queueMicrotask(readToken);
        }}
        onKeyUp={(e) => {
          if (!["ArrowDown", "ArrowUp", "Enter", "Tab", "Escape"].includes(e.key)) readToken();
        }}
        onClick={readToken}
        onFocus={warm}
        onBlur={() => window.setTimeout(() => setToken(null), 150)}
        onKeyDown={onKeyDown}
        error={error}
        autosize
        minRows={6}
        maxRows={16}
        aria-autocomplete="list"
        aria-expanded={shown}
        aria-controls={shown ? listId : undefined}
        aria-activedescendant={shown && items.length ? optionId(active) : undefined}
        // An error colours the border, not the user's words.
        styles={{ input: { fontSize: "var(--mantine-font-size-md)", lineHeight: 1.6, color: "var(--mantine-color-text)" } }}
      />
      {shown && (
        <Paper
          shadow="lg"
          radius="md"
          withBorder
          p={4}
          pos="absolute"
          left={0}
          right={0}
          style={{ zIndex: 20, top: "100%", marginTop: 4, maxWidth: 420 }}
        >
          <div role="listbox" id={listId} aria-label="Elements">
            {items.length === 0 ? (
              <Text size="sm" c="dimmed" p="xs">
                No element matches “{token.query}”. Create it in the Element Library first.
              </Text>
            ) : (
              items.map((s, i) => (
                <div
                  key={s.id}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === active}
                  aria-label={optionName(s)}
                  className="mention-option"
                  data-active={i === active || undefined}
                  onMouseDown={(e) => e.preventDefault()}
                  onMouseEnter={() => setActive(i)}
                  onClick={() => choose(s)}
                >
                  <Group justify="space-between" wrap="nowrap" gap="xs">
                    <Text size="sm" fw={600} truncate="end">
                      {s.name}
                    </Text>
                    <Group gap={4} wrap="nowrap" style={{ flexShrink: 0 }}>
                      {s.libraryQualifier !== "me" && (
                        <Badge size="xs" variant="light" color="violet" leftSection={<Users size={9} aria-hidden />} tt="none" maw={150}>
                          {s.libraryName}
                        </Badge>
                      )}
                      <Badge size="xs" variant="light" color="gray">
                        {TYPE_LABELS[s.type]}
                      </Badge>
                    </Group>
                  </Group>
                </div>
              ))
            )}
          </div>
        </Paper>
      )}
    </div>
  );
});

/** The mentions of a prompt as chips; each one's button removes it from the prompt. */
export function MentionChips({
  value,
  onChange,
  onRemove,
}: {
  value: string;
  onChange: (value: string) => void;
  /** Handles the removal itself when it returns true (an attached image's chip). */
  onRemove?: (name: string) => boolean;
}) {
  const names = mentionsIn(value);
  if (!names.length) return null;
  return (
    <Group gap={6} aria-label="Mentions" role="group">
      {names.map((name) => (
        <Badge
          key={name.toLowerCase()}
          variant="light"
          color={/^image\s*\d*$|^video$/i.test(name) ? "cyan" : "violet"}
          radius="xl"
          size="lg"
          tt="none"
          pr={2}
          rightSection={
            <CloseButton size="xs" radius="xl" aria-label={`Remove ${name}`} onClick={() => onRemove?.(name) || onChange(removeMention(value, name))} />
          }
        >
          @{name}
        </Badge>
      ))}
    </Group>
  );
}
