import { GatewayError, type OpenAIErrorBody } from "../errors";
import type {
  Endpoint,
  ProviderAdapter,
  ResponseContext,
  Target,
  TokenUsage,
  UpstreamRequest,
} from "../providers";
import { UnsupportedFeatureError } from "../providers/common/errors";
import { hasRemoteImages, type ImageFetcher, inlineRemoteImages } from "../providers/gemini";
import { type AttemptOutcome, classifyStatus, parseRetryAfter } from "../routing";
import { readCapped } from "../streaming/read-capped";
import { openRelay, type StreamEnd, type StreamFormat, StreamStartError } from "../streaming/relay";

/** A successful upstream answer, already in the caller's (OpenAI) shape. */
export type UpstreamAnswer =
  | { kind: "json"; body: Record<string, unknown>; usage: TokenUsage | null; ttfbMs: number }
  | {
      kind: "stream";
      body: ReadableStream<Uint8Array>;
      ttfbMs: number;
      ended: Promise<StreamEnd>;
      usage: () => TokenUsage | null;
      generatedText: () => string;
    };

/** A failed attempt, ready to become the caller's error if no other target succeeds. */
export interface UpstreamFailure {
  status: number;
  error: OpenAIErrorBody;
}

export interface CallOptions {
  adapter: ProviderAdapter;
  endpoint: Endpoint;
  body: Record<string, unknown>;
  target: Target;
  stream: boolean;
  context: ResponseContext;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  /** Largest JSON answer read (and largest single stream event); past it, 502 upstream_response_too_large. */
  maxUpstreamBytes: number;
  /** How streamed payloads are framed for the caller. */
  format: StreamFormat;
  now: () => number;
  fetcher: typeof fetch;
  /** Fetches caller-supplied image URLs for a target that needs the bytes (Gemini); SSRF-safe. */
  fetchImage: ImageFetcher;
}

type Outcome = AttemptOutcome<UpstreamAnswer | UpstreamFailure>;

/**
 * One attempt at one target: builds the provider request, applies the first-byte timeout, and
 * classifies the result for routing (retry, move on, or hand back to the caller).
 */
export async function callUpstream(options: CallOptions): Promise<Outcome> {
  const { adapter, target, now } = options;
  let request: UpstreamRequest;
  try {
    request = adapter.buildRequest(options.endpoint, await bodyFor(options), target, options.stream);
  } catch (err) {
    if (err instanceof GatewayError) return refusedBeforeCall(err);
    throw err;
  }
  const started = now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.firstByteTimeoutMs);
  try {
    let response: Response;
    try {
      response = await options.fetcher(request.url, { ...request.init, signal: controller.signal });
    } catch {
      return failure(
        controller.signal.aborted ? 504 : 502,
        timeoutOrNetwork(controller.signal.aborted),
        null,
      );
    }
    if (!response.ok) {
      const text = await errorText(response, Math.min(MAX_ERROR_BODY_BYTES, options.maxUpstreamBytes));
      const parsed = adapter.parseError(response.status, text);
      const kind = classifyStatus(response.status);
      const error: OpenAIErrorBody = { error: { ...parsed } };
      return {
        ok: false,
        kind,
        retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), now()),
        // Provider credential problems are ours, not the caller's: never echo them as 401/403.
        failure: { status: kind === "provider_auth" ? 502 : response.status, error },
      };
    }
    if (!options.stream) {
      let json: unknown;
      try {
        const bytes = await readCapped(response.body, options.maxUpstreamBytes, () => new AnswerTooLarge());
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch (err) {
        if (err instanceof AnswerTooLarge) return answerTooLarge(options.maxUpstreamBytes);
        return failure(
          502,
          upstreamError("The upstream returned an unreadable answer.", "upstream_bad_response"),
          null,
        );
      }
      const { body, usage } = adapter.parseResponse(options.endpoint, json, options.context);
      return { ok: true, value: { kind: "json", body, usage, ttfbMs: now() - started } };
    }
    if (!response.body)
      return failure(502, upstreamError("The upstream sent no stream.", "upstream_empty_stream"), null);
    const translator = adapter.streamTranslator(options.endpoint, options.context);
    let resolveEnd: (end: StreamEnd) => void = () => {};
    const ended = new Promise<StreamEnd>((resolve) => {
      resolveEnd = resolve;
    });
    const body = await openRelay(response.body, {
      translator,
      format: options.format,
      idleTimeoutMs: options.idleTimeoutMs,
      maxEventBytes: options.maxUpstreamBytes,
      abortUpstream: () => controller.abort(),
      onEnd: resolveEnd,
    });
    return {
      ok: true,
      value: {
        kind: "stream",
        body,
        ttfbMs: now() - started,
        ended,
        usage: () => translator.usage(),
        generatedText: () => translator.generatedText(),
      },
    };
  } catch (err) {
    if (err instanceof StreamStartError) {
      controller.abort();
      if (err.code === "upstream_response_too_large") return answerTooLarge(options.maxUpstreamBytes);
      return failure(
        502,
        upstreamError(`The upstream stream failed before its first chunk (${err.code}).`, err.code),
        null,
      );
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** The body for this target: Gemini cannot take image URLs, so it gets them inlined as data URLs. */
async function bodyFor(options: CallOptions): Promise<Record<string, unknown>> {
  const { adapter, body, endpoint } = options;
  if (adapter.kind !== "gemini" || endpoint !== "chat" || !hasRemoteImages(body)) return body;
  return inlineRemoteImages(body, options.fetchImage);
}

/**
 * A request refused before anything was sent. An unsupported feature is this target's limit, not
 * the caller's mistake: move on without retrying (another kind of target may serve it). Any other
 * 400 from a translation is the caller's own, returned as it is.
 */
function refusedBeforeCall(err: GatewayError): Outcome {
  const error = err.toBody();
  if (err instanceof UnsupportedFeatureError) {
    return { ok: false, kind: "unsupported", retryAfterMs: null, failure: { status: err.status, error } };
  }
  return { ok: false, kind: "caller", retryAfterMs: null, failure: { status: err.status, error } };
}

/** Error bodies are read for their message only; past this, the status speaks alone. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

class AnswerTooLarge extends Error {}

/** An error body's text, read up to `maxBytes`; empty when it is larger or unreadable. */
async function errorText(response: Response, maxBytes: number): Promise<string> {
  try {
    return new TextDecoder().decode(await readCapped(response.body, maxBytes, () => new AnswerTooLarge()));
  } catch {
    return "";
  }
}

/**
 * An answer larger than the gateway reads. It follows from what was asked (inputs, choices,
 * max_tokens), not from the target's health: never retried, never sent to another target.
 */
function answerTooLarge(maxBytes: number): Outcome {
  const message =
    `The upstream's answer is larger than this gateway accepts (max_upstream_bytes: ${maxBytes} bytes). ` +
    "Ask for less in one request: fewer inputs or choices, or a smaller max_tokens.";
  return {
    ok: false,
    kind: "caller",
    retryAfterMs: null,
    failure: { status: 502, error: upstreamError(message, "upstream_response_too_large") },
  };
}

function failure(status: number, error: OpenAIErrorBody, retryAfterMs: number | null): Outcome {
  return { ok: false, kind: "retryable", retryAfterMs, failure: { status, error } };
}

function upstreamError(message: string, code: string): OpenAIErrorBody {
  return { error: { message, type: "upstream_error", param: null, code } };
}

function timeoutOrNetwork(timedOut: boolean): OpenAIErrorBody {
  return timedOut
    ? upstreamError("The upstream did not answer in time.", "upstream_timeout")
    : upstreamError("The upstream could not be reached.", "upstream_unreachable");
}
