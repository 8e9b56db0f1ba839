import { describe, expect, it } from "vitest";
import { freePort } from "../../local/net";

describe("freePort", () => {
  it("returns distinct usable ports", async () => {
    const a = await freePort();
    const b = await freePort();
    expect(a).toBeGreaterThan(0);
    expect(a).not.toBe(b);
  });
});
