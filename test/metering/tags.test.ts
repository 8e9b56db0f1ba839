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
    const body = { user: "u-42", metadata: { team: "ads", run: "7", nested: { no: 1 }, count: 3 } };
    expect(callerTags(headers("team=search"), body)).toEqual({ team: "search", run: "7", user: "u-42" });
  });

  it("is null when there is nothing to attribute", () => {
    expect(callerTags(headers(), { model: "gpt-4.1" })).toBeNull();
    expect(callerTags(headers(" , "), null)).toBeNull();
  });

  it("bounds the number and size of tags", () => {
    const many = Array.from({ length: 50 }, (_, i) => `k${i}=v`).join(",");
    expect(Object.keys(callerTags(headers(many), {}) ?? {})).toHaveLength(32);
    const long = callerTags(headers(`${"k".repeat(65)}=x,v=${"y".repeat(300)}`), {});
    expect(long).toEqual({ v: "y".repeat(256) });
  });
});
