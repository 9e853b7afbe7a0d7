import { act, renderHook } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import { BACKOFF, backoffDelay, isLive, usePolling } from "./polling";

describe("backoffDelay", () => {
  it("starts at 1 s and grows by half each quiet poll up to 10 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffDelay(n))).toEqual([1000, 1500, 2250, 3375, 5063, 7594, 10000, 10000]);
    expect(backoffDelay(100)).toBe(BACKOFF.max);
    expect(backoffDelay(-3)).toBe(1000);
  });

  it("follows only jobs that may still move", () => {
    expect(["QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED"].filter(isLive)).toEqual(["QUEUED", "RUNNING"]);
  });
});

describe("usePolling", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** The moments (ms since start) at which `poll` ran, advancing the clock `total` ms. */
  async function times(poll: () => Promise<boolean>, total: number, start = Date.now()) {
    const at: number[] = [];
    const spy = vi.fn(async () => {
      at.push(Date.now() - start);
      return poll();
    });
    const hook = renderHook(({ active }) => usePolling(active, spy), { initialProps: { active: true } });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(total);
    });
    return { at, hook, spy };
  }

  it("backs off while nothing changes, at most every 10 s", async () => {
    const { at } = await times(async () => false, 40_000);
    expect(at).toEqual([1000, 2500, 4750, 8125, 13188, 20782, 30782]);
  });

  it("starts again at 1 s after a poll that saw a change", async () => {
    let n = 0;
    const { at } = await times(async () => ++n === 3, 12_000);
    // quiet, quiet, changed (→ 1 s), quiet…
    expect(at).toEqual([1000, 2500, 4750, 5750, 7250, 9500]);
  });

  it("a failed poll counts as quiet and polling goes on", async () => {
    const { at } = await times(async () => Promise.reject(new Error("offline")), 5000);
    expect(at).toEqual([1000, 2500, 4750]);
  });

  it("stops when nothing is live any more, and on unmount", async () => {
    const { hook, spy } = await times(async () => false, 3000);
    expect(spy).toHaveBeenCalledTimes(2);
    hook.rerender({ active: false });
    await act(async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    expect(spy).toHaveBeenCalledTimes(2);
    hook.rerender({ active: true }); // live again: from 1 s
    await act(async () => {
      await vi.advanceTimersByTimeAsync(1000);
    });
    expect(spy).toHaveBeenCalledTimes(3);
    hook.unmount();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(60_000);
    });
    expect(spy).toHaveBeenCalledTimes(3);
  });
});
