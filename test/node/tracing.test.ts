import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bindings, buildGateways, chat, eventually, freshKey, type Gateway } from "./observability-support";

interface OtlpValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: { key: string; value: OtlpValue }[];
}

/** A test OTLP/HTTP receiver: keeps every span POSTed to /v1/traces (JSON). */
async function startReceiver(): Promise<{
  url: string;
  spans: OtlpSpan[];
  contentTypes: string[];
  close(): Promise<void>;
}> {
  const spans: OtlpSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      contentTypes.push(req.headers["content-type"] ?? "");
      const data = JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const resource of data.resourceSpans)
        for (const scope of resource.scopeSpans) spans.push(...scope.spans);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    contentTypes,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const attr = (span: OtlpSpan, key: string): unknown => {
  const value = span.attributes.find((a) => a.key === key)?.value;
  if (!value) return undefined;
  if (value.intValue !== undefined) return Number(value.intValue);
  return value.stringValue ?? value.doubleValue ?? value.boolValue;
};

const hex = (bytes: number) =>
  Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");

describe("OpenTelemetry traces over OTLP/HTTP", () => {
  let gateway: Gateway;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let cleanup = () => {};

  beforeAll(async () => {
    receiver = await startReceiver();
    const gateways = await buildGateways();
    cleanup = gateways.cleanup;
    gateway = await gateways.serve({ tracing: { otlp_endpoint: receiver.url, service_name: "sluice-test" } });
  }, 120_000);

  afterAll(async () => {
    await gateway?.stop();
    await receiver?.close();
    cleanup();
  });

  it("makes one span per request with the GenAI attributes, in the caller's trace, propagated upstream", async () => {
    const { token, tenant, keyId } = await freshKey();
    const callers = Array.from({ length: 5 }, () => ({ traceId: hex(16), spanId: hex(8) }));
    const mockUrl = bindings.MOCK_PROVIDER_URL as string;
    const answers = await Promise.all(
      callers.map(({ traceId, spanId }) =>
        chat(gateway.url, token, {}, { traceparent: `00-${traceId}-${spanId}-01` }),
      ),
    );
    for (const answer of answers) expect(answer.status).toBe(200);

    const servers = await eventually("five server spans", async () => {
      const mine = receiver.spans.filter((s) => s.kind === 2 && attr(s, "sluice.tenant") === tenant);
      return mine.length >= 5 ? mine : undefined;
    });
    expect(servers).toHaveLength(5);
    expect(receiver.contentTypes.every((type) => type === "application/json")).toBe(true);
    for (const { traceId, spanId } of callers) {
      const server = servers.filter((s) => s.traceId === traceId);
      expect(server).toHaveLength(1);
      const span = server[0] as OtlpSpan;
      expect(span.parentSpanId).toBe(spanId);
      expect(span.name).toBe("chat gpt-4o-mini");
      expect(attr(span, "gen_ai.system")).toBe("openai");
      expect(attr(span, "gen_ai.operation.name")).toBe("chat");
      expect(attr(span, "gen_ai.request.model")).toBe("gpt-4o-mini");
      expect(attr(span, "gen_ai.response.model")).toBe("gpt-4o-mini");
      expect(attr(span, "gen_ai.usage.input_tokens")).toBeGreaterThan(0);
      expect(attr(span, "gen_ai.usage.output_tokens")).toBeGreaterThan(0);
      expect(attr(span, "sluice.key_id")).toBe(keyId);
      expect(attr(span, "sluice.attempts")).toBe(1);
      expect(attr(span, "sluice.cost_usd")).toBeGreaterThan(0);
      expect(attr(span, "http.response.status_code")).toBe(200);

      // Children: the limits decision and the upstream attempt, in the same trace.
      const children = receiver.spans.filter((s) => s.parentSpanId === span.spanId);
      expect(children.map((s) => s.name).sort()).toEqual(["chat gpt-4o-mini", "sluice.limits"]);
      const attempt = children.find((s) => s.kind === 3) as OtlpSpan;
      expect(attempt.traceId).toBe(traceId);
      expect(attr(attempt, "sluice.provider")).toBe(attr(span, "sluice.provider"));
    }

    // The upstream got a traceparent in the caller's trace, naming the attempt span.
    const upstream = (await (await fetch(`${mockUrl}/__mock/requests`)).json()) as {
      headers: Record<string, string>;
    }[];
    for (const { traceId } of callers) {
      const sent = upstream.filter((r) => r.headers.traceparent?.split("-")[1] === traceId);
      expect(sent).toHaveLength(1);
      const attemptSpan = receiver.spans.find((s) => s.traceId === traceId && s.kind === 3);
      expect(sent[0]?.headers.traceparent).toBe(`00-${traceId}-${attemptSpan?.spanId}-01`);
    }
  });

  it("starts a trace of its own without a traceparent, and traces requests refused before the gate", async () => {
    const { token, tenant } = await freshKey();
    expect((await chat(gateway.url, token)).status).toBe(200);
    expect((await chat(gateway.url, "sk-sluice-not-a-key")).status).toBe(401);
    const own = await eventually("the span", async () =>
      receiver.spans.find((s) => s.kind === 2 && attr(s, "sluice.tenant") === tenant),
    );
    expect(own.parentSpanId ?? "").toBe("");
    expect(own.traceId).toMatch(/^[0-9a-f]{32}$/);
    await eventually("the refused request's span", async () =>
      receiver.spans.find((s) => s.kind === 2 && attr(s, "http.response.status_code") === 401),
    );
  });
});
