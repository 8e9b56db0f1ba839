import { describe, expect, it } from "vitest";
import { callerTags, parseTagHeader } from "../../src/metering";

const headers = (tags?: string) => new Headers(tags === undefined ? {} : { "x-sluice-tags": tags });

describe("caller tags", () => {
  it("reads the x-sluice-tags header as k=v pairs, percent-decoded", () => {
    expect(callerTags(headers("team=search, env=prod,note=a%2Cb%3Dc"), {})).toEqual({
      team: "search",
      env: "prod",
      note: "a,b=c",
    });
    expect(parseTagHeader("flag,,k=")).toEqual([
      ["flag", ""],
      ["k", ""],
    ]);
  });

  it("takes OpenAI's user and string metadata from the body; the header wins a clash", () => {
    const body = { user: "u-42", metadata: { team: "ads", run: "7" } };
    expect(callerTags(headers("team=search"), body)).toEqual({ team: "search", run: "7", user: "u-42" });
  });

  it("refuses metadata that is not string pairs (it used to drop them silently)", () => {
    expect(() => callerTags(headers(), { metadata: { nested: { no: 1 } } })).toThrow(/metadata\.nested/);
    expect(() => callerTags(headers(), { metadata: { count: 3 } })).toThrow(/metadata\.count/);
  });

  it("is null when there is nothing to attribute", () => {
    expect(callerTags(headers(), { model: "gpt-4.1" })).toBeNull();
    expect(callerTags(headers(" , "), null)).toBeNull();
  });

  it("refuses tags past their bounds with a 400 naming the header, rather than truncating", () => {
    const many = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(",");
    expect(() => callerTags(headers(many), {})).toThrow(
      expect.objectContaining({ status: 400, param: "x-sluice-tags" }),
    );
    expect(Object.keys(callerTags(headers(many.replace(/,k32=v$/, "")), {}) ?? {})).toHaveLength(32);
    expect(() => callerTags(headers(`${"k".repeat(65)}=x`), {})).toThrow(
      expect.objectContaining({ code: "invalid_tags" }),
    );
    expect(() => callerTags(headers(`v=${"y".repeat(513)}`), {})).toThrow(
      expect.objectContaining({ code: "invalid_tags" }),
    );
    expect(callerTags(headers(`v=${"y".repeat(300)}`), {})).toEqual({ v: "y".repeat(300) });
  });
});
