import { describe, expect, it } from "vitest";
import { createCacheStores } from "../../src/cache";

/** A runner that records the SETEXs it was asked for. */
function recordingRunner() {
  const calls: [string, number, number][] = [];
  return {
    calls,
    setex<T>(key: string, seconds: number, value: string): Promise<T> {
      calls.push([key, seconds, value.length]);
      return Promise.resolve("OK" as T);
    },
  };
}

describe("response-cache stores waiting for a settlement batch", () => {
  it("sends what was queued once, in one go, and nothing when nothing waits", async () => {
    const runner = recordingRunner();
    const stores = createCacheStores(runner, () => {});
    expect(stores.sendPending()).toBeNull();
    expect(stores.queue({ key: "a", ttlSeconds: 60, value: "x".repeat(10) })).toBe(true);
    expect(stores.queue({ key: "b", ttlSeconds: 30, value: "y" })).toBe(true);
    await stores.sendPending();
    expect(runner.calls).toEqual([
      ["a", 60, 10],
      ["b", 30, 1],
    ]);
    expect(stores.sendPending()).toBeNull();
  });

  it("leaves big entries to a request of their own, and bounds what waits", () => {
    const stores = createCacheStores(recordingRunner(), () => {});
    expect(stores.queue({ key: "big", ttlSeconds: 60, value: "x".repeat(64 * 1024 + 1) })).toBe(false);
    const entry = { key: "k", ttlSeconds: 60, value: "x".repeat(64 * 1024) };
    const accepted = Array.from({ length: 10 }, () => stores.queue(entry)).filter(Boolean).length;
    expect(accepted).toBe(8); // 512 KiB at most wait at once
  });

  it("logs failed writes and never rejects", async () => {
    const logged: string[] = [];
    const failing = { setex: () => Promise.reject(new Error("down")) };
    const stores = createCacheStores(failing, (_level, message) => logged.push(message));
    stores.queue({ key: "a", ttlSeconds: 60, value: "x" });
    await expect(stores.sendPending()).resolves.toBeUndefined();
    expect(logged).toEqual(["response cache stores failed"]);
  });
});
