import { useEffect, useRef } from "react";

/** How long to wait before the next poll: 1 s at first, ×1.5 after each quiet poll, at most
 * 10 s. A poll that saw a change starts again at 1 s, so a job that moves is followed closely
 * and one that waits in the queue costs a request every 10 s. */
export const BACKOFF = { first: 1000, factor: 1.5, max: 10_000 } as const;

export function backoffDelay(quietPolls: number, backoff: { first: number; factor: number; max: number } = BACKOFF): number {
  return Math.min(backoff.max, Math.round(backoff.first * backoff.factor ** Math.max(0, quietPolls)));
}

/** Whether a job may still change (and is worth polling). */
export function isLive(status: string): boolean {
  return status === "QUEUED" || status === "RUNNING";
}

/** Calls `poll` while `active`, spaced by `backoffDelay`: `poll` resolves true when it saw a
 * change (the spacing starts again at 1 s). One poll at a time; stops when `active` turns false
 * or the component unmounts, and starts afresh when it turns true again. */
export function usePolling(active: boolean, poll: () => Promise<boolean>): void {
  const pollRef = useRef(poll);
  pollRef.current = poll;
  useEffect(() => {
    if (!active) return;
    let quiet = 0;
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      timer = setTimeout(async () => {
        let changed = false;
        try {
          changed = await pollRef.current();
        } catch {
          changed = false; // a failed poll counts as quiet: the next one waits longer
        }
        if (stopped) return;
        quiet = changed ? 0 : quiet + 1;
        schedule();
      }, backoffDelay(quiet));
    };
    schedule();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [active]);
}
