import type { Requester } from "@upstash/redis/cloudflare";
import { describe, expect, it } from "vitest";
import { TickPipeline } from "../../src/limits/script-runner";
import { StallBreaker } from "../../src/limits/stall-breaker";

/** A store that answers, or stalls until the client's timeout (AbortSignal.timeout's error). */
function store() {
  const state = { stalled: true, requests: 0 };
  const requester = {
    request: async () => {
      state.requests += 1;
      if (state.stalled) throw new DOMException("The operation was aborted due to timeout", "TimeoutError");
      return [{ result: "PONG" }];
    },
  } as unknown as Requester;
  return { state, requester };
}

/** One command through the pipeline: its reply, or the error's name. */
const ping = (pipe: TickPipeline) =>
  pipe.send<string>(["ping"]).then(
    (reply) => reply,
    (error: Error) => error.name,
  );

describe("a stalled limits store is not waited on", () => {
  it("after three timeouts in a row, round trips are refused at once until a probe finds the store back", async () => {
    const clock = { ms: 0 };
    const { state, requester } = store();
    const pipe = new TickPipeline(requester, new StallBreaker(() => clock.ms));

    for (let i = 0; i < 3; i++) expect(await ping(pipe)).toBe("TimeoutError");
    expect(state.requests).toBe(3);
    // Open: refused without a request.
    expect(await ping(pipe)).toBe("StoreStalledError");
    clock.ms += 999;
    expect(await ping(pipe)).toBe("StoreStalledError");
    expect(state.requests).toBe(3);

    // A second on: one probe goes out; it times out too, so the breaker opens again.
    clock.ms += 1;
    expect(await ping(pipe)).toBe("TimeoutError");
    expect(await ping(pipe)).toBe("StoreStalledError");
    expect(state.requests).toBe(4);

    // The store is back: the next probe closes the breaker, and every round trip goes out again.
    state.stalled = false;
    clock.ms += 1000;
    expect(await ping(pipe)).toBe("PONG");
    expect(await ping(pipe)).toBe("PONG");
    expect(state.requests).toBe(6);
  });

  it("a store that fails fast (not a timeout) never opens it", async () => {
    let requests = 0;
    const requester = {
      request: async () => {
        requests += 1;
        throw new Error("connection refused");
      },
    } as unknown as Requester;
    const pipe = new TickPipeline(requester, new StallBreaker(() => 0));
    for (let i = 0; i < 5; i++) expect(await ping(pipe)).toBe("Error");
    expect(requests).toBe(5);
  });

  it("one probe at a time: commands of later ticks are refused while it is out", async () => {
    const clock = { ms: 0 };
    const { state, requester } = store();
    const pipe = new TickPipeline(requester, new StallBreaker(() => clock.ms));
    for (let i = 0; i < 3; i++) await ping(pipe);
    clock.ms = 1000;
    // The probe's answer waits until released.
    let release: (replies: unknown) => void = () => {};
    requester.request = (() => {
      state.requests += 1;
      return new Promise<unknown>((resolve) => {
        release = resolve;
      });
    }) as unknown as Requester["request"];
    const probe = ping(pipe);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await ping(pipe)).toBe("StoreStalledError");
    release([{ result: "PONG" }]);
    expect(await probe).toBe("PONG");
    expect(state.requests).toBe(4);
  });
});
