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
import { type AttemptFailure, type AttemptOutcome, classifyStatus, parseRetryAfter } from "../routing";
import { readText } from "../streaming/read-body";
import { openRelay } from "../streaming/relay";
import { type StreamEnd, type StreamFormat, StreamStartError } from "../streaming/stream-end";

/** A successful upstream answer, already in the caller's (OpenAI) shape. */
export type UpstreamAnswer = JsonAnswer | StreamAnswer;

/** A whole JSON answer, with the usage the upstream reported (null when it reported none). */
export interface JsonAnswer {
  kind: "json";
  body: Record<string, unknown>;
  usage: TokenUsage | null;
  ttfbMs: number;
}

/** A relayed stream; usage and text are read once it has `ended`. */
export interface StreamAnswer {
  kind: "stream";
  body: ReadableStream<Uint8Array>;
  ttfbMs: number;
  ended: Promise<StreamEnd>;
  usage: () => TokenUsage | null;
  generatedText: () => string;
}

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
  /** The incoming request's signal: aborts when the client disconnects. */
  clientGone?: AbortSignal;
  fetcher: typeof fetch;
  /** Fetches caller-supplied image URLs for a target that needs the bytes (Gemini); SSRF-safe. */
  fetchImage: ImageFetcher;
}

type Outcome = AttemptOutcome<UpstreamAnswer, UpstreamFailure>;
type Failure = AttemptFailure<UpstreamFailure>;

/**
 * One attempt at one target: builds the provider request, sends it under the first-byte timeout,
 * and classifies the result for routing (retry, move on, or hand back to the caller).
 * @example const outcome = await callUpstream({ adapter, endpoint: "chat", body, target, stream: false, ... })
 */
export async function callUpstream(options: CallOptions): Promise<Outcome> {
  let request: UpstreamRequest;
  try {
    // Awaited only when images must be fetched first: otherwise the fetch below leaves in the
    // caller's turn, so a speculative call is on the wire before the limits round trip is built.
    const body = needsImagesInlined(options)
      ? await inlineRemoteImages(options.body, options.fetchImage)
      : options.body;
    request = options.adapter.buildRequest(options.endpoint, body, options.target, options.stream);
  } catch (err) {
    if (err instanceof GatewayError) return refusedBeforeCall(err);
    throw err;
  }
  const started = options.now();
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.firstByteTimeoutMs);
  try {
    let response: Response;
    try {
      response = await options.fetcher(request.url, { ...request.init, signal: controller.signal });
    } catch {
      return unreachable(controller.signal.aborted);
    }
    if (!response.ok) return await refusedByUpstream(response, options);
    if (!options.stream) return await jsonAnswer(response, options, started);
    return await streamAnswer(response, options, started, controller);
  } finally {
    clearTimeout(timer);
  }
}

/** An upstream error answer, classified by its status; its body is read for the message only. */
async function refusedByUpstream(response: Response, options: CallOptions): Promise<Failure> {
  const text = await errorText(response, Math.min(MAX_ERROR_BODY_BYTES, options.maxUpstreamBytes));
  const parsed = options.adapter.parseError(response.status, text);
  const kind = classifyStatus(response.status);
  const error: OpenAIErrorBody = { error: { ...parsed } };
  return {
    ok: false,
    kind,
    retryAfterMs: parseRetryAfter(response.headers.get("retry-after"), options.now()),
    // Provider credential problems are ours, not the caller's: never echo them as 401/403.
    failure: { status: kind === "provider_auth" ? 502 : response.status, error },
  };
}

/** A JSON answer read whole (up to max_upstream_bytes) and turned into the OpenAI shape. */
async function jsonAnswer(response: Response, options: CallOptions, started: number): Promise<Outcome> {
  let json: unknown;
  try {
    json = JSON.parse(await readText(response, options.maxUpstreamBytes, () => new AnswerTooLarge()));
  } catch (err) {
    if (err instanceof AnswerTooLarge) return answerTooLarge(options.maxUpstreamBytes);
    return retryable(
      502,
      upstreamError("The upstream returned an unreadable answer.", "upstream_bad_response"),
    );
  }
  const { body, usage } = options.adapter.parseResponse(options.endpoint, json, options.context);
  return { ok: true, value: { kind: "json", body, usage, ttfbMs: options.now() - started } };
}

/**
 * A streamed answer, relayed once its first chunk came (a failure before it can still go to
 * another target); `ended` settles when the relay is done, however it ended.
 */
async function streamAnswer(
  response: Response,
  options: CallOptions,
  started: number,
  controller: AbortController,
): Promise<Outcome> {
  if (!response.body)
    return retryable(502, upstreamError("The upstream sent no stream.", "upstream_empty_stream"));
  const translator = options.adapter.streamTranslator(options.endpoint, options.context, {
    meterOnly: options.format.raw === true,
  });
  let resolveEnd: (end: StreamEnd) => void = () => {};
  const ended = new Promise<StreamEnd>((resolve) => {
    resolveEnd = resolve;
  });
  let body: ReadableStream<Uint8Array>;
  try {
    body = await openRelay(response.body, {
      translator,
      format: options.format,
      idleTimeoutMs: options.idleTimeoutMs,
      maxEventBytes: options.maxUpstreamBytes,
      abortUpstream: () => controller.abort(),
      clientGone: options.clientGone,
      onEnd: resolveEnd,
    });
  } catch (err) {
    if (!(err instanceof StreamStartError)) throw err;
    controller.abort();
    return streamStartFailure(err, options.maxUpstreamBytes);
  }
  const ttfbMs = options.now() - started;
  const usage = () => translator.usage();
  const generatedText = () => translator.generatedText();
  return { ok: true, value: { kind: "stream", body, ttfbMs, ended, usage, generatedText } };
}

function streamStartFailure(err: StreamStartError, maxUpstreamBytes: number): Failure {
  if (err.code === "upstream_response_too_large") return answerTooLarge(maxUpstreamBytes);
  // The provider said why: if no other target serves the request, the caller reads its words.
  if (err.providerError) return retryable(502, { error: err.providerError });
  const message = `The upstream stream failed before its first chunk (${err.code}).`;
  return retryable(502, upstreamError(message, err.code));
}

/** Gemini cannot take image URLs: a chat body with some gets them inlined as data URLs first. */
function needsImagesInlined({ adapter, body, endpoint }: CallOptions): boolean {
  return adapter.kind === "gemini" && endpoint === "chat" && hasRemoteImages(body);
}

/**
 * A request refused before anything was sent. An unsupported feature is this target's limit, not
 * the caller's mistake: move on without retrying (another kind of target may serve it). Any other
 * 400 from a translation is the caller's own, returned as it is.
 */
function refusedBeforeCall(err: GatewayError): Failure {
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
    return await readText(response, maxBytes, () => new AnswerTooLarge());
  } catch {
    return "";
  }
}

/**
 * An answer larger than the gateway reads. It follows from what was asked (inputs, choices,
 * max_tokens), not from the target's health: never retried, never sent to another target.
 */
function answerTooLarge(maxBytes: number): Failure {
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

/** A retryable failure: another attempt (here or at the next target) may succeed. */
function retryable(status: number, error: OpenAIErrorBody): Failure {
  return { ok: false, kind: "retryable", retryAfterMs: null, failure: { status, error } };
}

function upstreamError(message: string, code: string): OpenAIErrorBody {
  return { error: { message, type: "upstream_error", param: null, code } };
}

/** No answer at all: the first-byte timeout fired (504), or the network failed (502). */
function unreachable(timedOut: boolean): Failure {
  return timedOut
    ? retryable(504, upstreamError("The upstream did not answer in time.", "upstream_timeout"))
    : retryable(502, upstreamError("The upstream could not be reached.", "upstream_unreachable"));
}
