/** Fault specs: what goes wrong with one mock answer, and for how many requests. */

import { MockOptionError } from "./options";

/** A fault that hits after some stream chunks (or half of a JSON body). */
export interface MidStreamFault {
  kind: "drop" | "stall" | "malformed" | "error";
  /** Good chunks written before the fault. */
  after: number;
}

/** A parsed fault spec; several kinds may combine, e.g. a slow first byte and a drop. */
export interface Fault {
  /** The spec as written; `times-N` counters are kept per exact spec. */
  spec: string;
  status?: { code: number; retryAfterSeconds?: number };
  hang?: boolean;
  reset?: boolean;
  slowFirstByteMs?: number;
  midStream?: MidStreamFault;
  /** Bytes of padding added to the answer (JSON, error body, or a stream's first, unterminated line). */
  padBytes?: number;
  /** Only the first N requests carrying this spec fail. */
  times?: number;
}

/**
 * Parses a comma-separated fault spec.
 * @example parseFault("status-429-retry-2,times-1") // { status: { code: 429, retryAfterSeconds: 2 }, times: 1, ... }
 */
export function parseFault(spec: string): Fault {
  const fault: Fault = { spec };
  for (const term of spec.split(",").map((t) => t.trim())) {
    const status = /^status-(\d{3})(?:-retry-(\d+))?$/.exec(term);
    const slow = /^slow-first-byte-(\d+)$/.exec(term);
    const mid = /^(drop|stall|malformed|error)-after-(\d+)$/.exec(term);
    const times = /^times-(\d+)$/.exec(term);
    const pad = /^pad-(\d+)$/.exec(term);
    if (status) {
      const retry = status[2] === undefined ? undefined : Number(status[2]);
      fault.status = { code: Number(status[1]), retryAfterSeconds: retry };
    } else if (term === "hang") fault.hang = true;
    else if (term === "reset") fault.reset = true;
    else if (slow) fault.slowFirstByteMs = Number(slow[1]);
    else if (mid) {
      if (fault.midStream) throw new MockOptionError(`mock: fault "${spec}" has two mid-stream faults`);
      fault.midStream = { kind: mid[1] as MidStreamFault["kind"], after: Number(mid[2]) };
    } else if (times) fault.times = Number(times[1]);
    else if (pad) fault.padBytes = Number(pad[1]);
    else throw new MockOptionError(`mock: unknown fault "${term}" in "${spec}"`);
  }
  return fault;
}

/** Counts requests per exact spec so `times-N` faults stop after N hits. */
export class FaultCounters {
  private readonly seen = new Map<string, number>();

  /** Records one request carrying `fault` and tells whether the fault applies to it. */
  fires(fault: Fault): boolean {
    const count = (this.seen.get(fault.spec) ?? 0) + 1;
    this.seen.set(fault.spec, count);
    return fault.times === undefined || count <= fault.times;
  }

  /** Forgets all counts. */
  clear(): void {
    this.seen.clear();
  }
}
