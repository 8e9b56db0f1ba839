import {
  type Attributes,
  context,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { JsonTraceSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  ParentBasedSampler,
  type ReadableSpan,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import type { TracingConfig } from "../config";
import type { Log } from "../log";
import type { UsageRecord } from "../metering/types";
import { WindowBatcher } from "../window-batcher";

/** How long the first ended span of a batch waits for company; most spans per export. */
const WINDOW_MS = 20;
const MAX_BATCH = 512;

/** The GenAI semantic conventions' `gen_ai.system` per wire format. */
const GEN_AI_SYSTEM: Record<string, string> = {
  openai: "openai",
  anthropic: "anthropic",
  gemini: "gcp.gemini",
};
/** `gen_ai.operation.name` from the request path. */
function operationOf(path: string): string {
  if (path.endsWith("/embeddings")) return "embeddings";
  if (path.endsWith("/v1/completions")) return "text_completion";
  return "chat";
}

/** One request's trace: the server span and its children, exported once the request ends. */
export interface RequestTrace {
  /** A child span around the limits decision; ended with the refusal's code, or null when admitted. */
  limits(): { end(refusal: string | null): void };
  /** A client span for one upstream attempt and the `traceparent` to send with it. */
  attempt(target: { provider: string; model: string }): {
    traceparent: string | null;
    /** Ends it: the target's wire format, and the status it failed with (null: it answered). */
    end(kind: string, failedStatus: number | null): void;
  };
  /** Ends the request span with its usage record (metered requests); the promise is for waitUntil. */
  finish(record: UsageRecord | null, costUsd: number | null, status: number): Promise<void>;
  /** Says the request's settlement will call `finish` (a stream's, once it ends). */
  settling(): void;
  /** True once `finish` was called or `settling` said it will be. */
  readonly owned: boolean;
}

/** Starts request traces; null when no OTLP endpoint is configured. */
export interface Tracing {
  start(info: { headers: Headers; method: string; path: string; requestId: string }): RequestTrace;
}

export interface TracingOptions {
  config: TracingConfig;
  /** Extra collector headers (from the `headers_secret` binding), e.g. its auth. */
  headers: Record<string, string>;
  fetcher: typeof fetch;
  now: () => number;
  log: Log;
}

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Headers) => [...carrier.keys()],
  get: (carrier: Headers, key: string) => carrier.get(key) ?? undefined,
};

/**
 * OpenTelemetry traces with the JS SDK's tracer (sampling, ids, W3C trace context), exported as
 * OTLP/HTTP JSON by the SDK's serializer in batches across requests (like usage rows: the request
 * that opens a batch sends it from its waitUntil). The SDK's own exporters are not used: their
 * timers are not tied to a request, so workerd could end the isolate's work before they send.
 * @example const tracing = createTracing({ config: config.tracing, headers: {}, fetcher: fetch, now: Date.now, log })
 */
export function createTracing(opts: TracingOptions): Tracing | null {
  const endpoint = opts.config.otlp_endpoint;
  if (!endpoint) return null;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": opts.config.service_name }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(opts.config.sample_ratio) }),
  });
  const tracer = provider.getTracer("sluice");
  const exporter = new WindowBatcher<ReadableSpan>({
    windowMs: WINDOW_MS,
    maxItems: MAX_BATCH,
    send: (spans) => exportSpans(opts, endpoint, spans),
  });

  return {
    start(info) {
      const parent = propagator.extract(context.active(), info.headers, headerGetter);
      const server = tracer.startSpan(
        `${info.method} ${info.path}`,
        {
          kind: SpanKind.SERVER,
          startTime: opts.now(),
          attributes: {
            "http.request.method": info.method,
            "url.path": info.path,
            "sluice.request_id": info.requestId,
          },
        },
        parent,
      );
      return requestTrace(tracer, server, operationOf(info.path), opts.now, exporter);
    },
  };
}

function requestTrace(
  tracer: ReturnType<BasicTracerProvider["getTracer"]>,
  server: Span,
  operation: string,
  now: () => number,
  exporter: WindowBatcher<ReadableSpan>,
): RequestTrace {
  const within = trace.setSpan(context.active(), server);
  const children: Span[] = [];
  let finished = false;
  let settling = false;
  let system: string | null = null;
  const child = (name: string, kind: SpanKind, attributes: Attributes = {}) => {
    const span = tracer.startSpan(name, { kind, startTime: now(), attributes }, within);
    children.push(span);
    return span;
  };
  return {
    get owned() {
      return finished || settling;
    },
    settling() {
      settling = true;
    },
    limits() {
      const span = child("sluice.limits", SpanKind.INTERNAL);
      return {
        end(refusal) {
          span.setAttribute("sluice.limits.allowed", refusal === null);
          if (refusal !== null) span.setAttribute("sluice.limits.refusal", refusal);
          span.end(now());
        },
      };
    },
    attempt(target) {
      const span = child(`${operation} ${target.model}`, SpanKind.CLIENT, {
        "gen_ai.operation.name": operation,
        "gen_ai.request.model": target.model,
        "sluice.provider": target.provider,
      });
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(context.active(), span), carrier, {
        set: (c, key, value) => {
          c[key] = value;
        },
      });
      return {
        // Unsampled too: the caller's trace context passes through either way.
        traceparent: carrier.traceparent ?? null,
        end(kind, failedStatus) {
          system = GEN_AI_SYSTEM[kind] ?? kind;
          span.setAttribute("gen_ai.system", system);
          if (failedStatus !== null) {
            span.setAttribute("http.response.status_code", failedStatus);
            span.setStatus({ code: SpanStatusCode.ERROR });
          }
          span.end(now());
        },
      };
    },
    finish(record, costUsd, status) {
      if (finished) return Promise.resolve();
      finished = true;
      if (record) server.updateName(`${operation} ${record.requestedModel ?? ""}`.trim());
      server.setAttributes({ "http.response.status_code": status, "gen_ai.operation.name": operation });
      if (record) server.setAttributes(recordAttributes(record, costUsd));
      if (system) server.setAttribute("gen_ai.system", system);
      if (status >= 500) server.setStatus({ code: SpanStatusCode.ERROR });
      const end = now();
      for (const span of children) if (span.isRecording()) span.end(end);
      server.end(end);
      // Unsampled spans are not recorded: nothing to export.
      if ((server.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return Promise.resolve();
      const spans = [server, ...children] as unknown as ReadableSpan[];
      return Promise.all(spans.map((span) => exporter.add(span))).then(() => {});
    },
  };
}

/** The GenAI semantic conventions' request attributes, plus sluice's own. */
function recordAttributes(record: UsageRecord, costUsd: number | null): Attributes {
  const attributes: Attributes = {
    "gen_ai.request.model": record.requestedModel ?? "",
    "gen_ai.usage.input_tokens": record.usage.promptTokens,
    "gen_ai.usage.output_tokens": record.usage.completionTokens,
    "sluice.tenant": record.tenant,
    "sluice.key_id": record.keyId,
    "sluice.attempts": record.attempts,
    "sluice.endpoint": record.endpoint,
  };
  if (record.provider) attributes["sluice.provider"] = record.provider;
  if (record.upstreamModel) attributes["gen_ai.response.model"] = record.upstreamModel;
  if (costUsd !== null) attributes["sluice.cost_usd"] = costUsd;
  if (record.errorCode) attributes["error.type"] = record.errorCode;
  return attributes;
}

async function exportSpans(opts: TracingOptions, endpoint: string, spans: ReadableSpan[]): Promise<void> {
  const body = JsonTraceSerializer.serializeRequest(spans);
  if (!body) return;
  try {
    const response = await opts.fetcher(endpoint, {
      method: "POST",
      headers: { ...opts.headers, "content-type": "application/json" },
      body,
    });
    if (!response.ok)
      opts.log("warn", "trace export refused", { status: response.status, spans: spans.length });
    await response.body?.cancel();
  } catch {
    opts.log("warn", "trace export failed", { spans: spans.length });
  }
}
