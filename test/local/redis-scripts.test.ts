import { describe, expect, it } from "vitest";
import { stripUpstashFlags } from "../../local/redis/scripts";

describe("stripUpstashFlags", () => {
  it("drops the Upstash-only flag and keeps the line count", () => {
    const script = "#!lua flags=allow-key-locking\nreturn 1";
    expect(stripUpstashFlags(script)).toBe("#!lua\nreturn 1");
  });

  it("keeps flags stock Redis understands", () => {
    expect(stripUpstashFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
  });

  it("leaves other scripts untouched", () => {
    for (const script of [
      "return 1",
      "#!lua flags=no-writes\nreturn 1",
      "-- flags=allow-key-locking\nreturn 1",
    ]) {
      expect(stripUpstashFlags(script)).toBe(script);
    }
  });
});
