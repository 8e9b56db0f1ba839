import type { OpenAIErrorBody } from "../errors";
import { boundedProviderError } from "../providers/common/error-body";
import type { ProviderError, StreamTranslator, TokenUsage } from "../providers/types";

/*
 * What both stream relays share (relay.ts rewrites events in JS, native-relay.ts lets the runtime
 * forward the bytes): how a stream ends, the errors that end it, and the options they take.
 */

/** The gateway's own reasons for cutting a started stream short. */
export type StreamCutCode =
  | "upstream_stream_interrupted"
  | "upstream_idle_timeout"
  | "upstream_malformed_chunk"
  | "upstream_response_too_large";

/** The usage row's code for a provider's own mid-stream error that came without a code. */
export const PROVIDER_STREAM_ERROR_CODE = "upstream_stream_error";

/** How a relayed stream ended, reported once. */
export interface StreamEnd {
  /** The upstream finished its answer (e.g. `[DONE]`, `message_stop`). */
  complete: boolean;
  /** The client went away before the end. */
  cancelled: boolean;
  /**
   * Why the stream was cut short, when it was: a StreamCutCode, or for an error the provider
   * itself reported mid-stream, its code (`upstream_stream_error` when it gave none).
   */
  errorCode: StreamCutCode | (string & {}) | null;
}

/** How the client's stream is written: OpenAI SSE, or Anthropic events on /v1/messages. */
export interface StreamFormat {
  /**
   * Frames one OpenAI payload for the client (SSE text), possibly rewritten (the usage chunk with
   * its cost), or null to drop it (the usage chunk the caller did not ask for).
   */
  frame(payload: string, usage: TokenUsage | null): string | null;
  /** The terminal event of a stream cut short, from the OpenAI-shaped error. */
  fail(error: OpenAIErrorBody): string;
  /**
   * Native passthrough: the client gets the upstream's bytes as they came, forwarded by the
   * runtime (native-relay.ts); payloads are only read (usage, errors) and mark that the answer has
   * started. A provider's own error event then reaches the client as the provider wrote it, so no
   * second error event is added.
   */
  raw?: boolean;
}

export interface RelayOptions {
  translator: StreamTranslator;
  format: StreamFormat;
  /** Longest silence between upstream chunks before the stream is cut. */
  idleTimeoutMs: number;
  /** Most bytes read without completing an event: bounds the parser's buffer (an endless line). */
  maxEventBytes: number;
  /** Aborts the upstream request (client gone, timeout). */
  abortUpstream: () => void;
  /**
   * The incoming request's signal: aborts when the client disconnects (compatibility flag
   * `enable_request_signal`). The natively forwarded stream learns of it only so.
   */
  clientGone?: AbortSignal;
  onEnd: (end: StreamEnd) => void;
}

/** The upstream failed before anything reached the client: safe to fall back to another target. */
export class StreamStartError extends Error {
  constructor(
    readonly code:
      | "upstream_empty_stream"
      | "upstream_malformed_chunk"
      | "upstream_stream_interrupted"
      | "upstream_response_too_large"
      | typeof PROVIDER_STREAM_ERROR_CODE,
    /** The provider's own error, when it reported one before the first byte. */
    readonly providerError: ProviderError | null = null,
  ) {
    super(code);
    this.name = "StreamStartError";
  }
}

const MESSAGES: Record<StreamCutCode, string> = {
  upstream_stream_interrupted: "The upstream connection ended before the answer was complete.",
  upstream_idle_timeout: "The upstream stopped sending data before the answer was complete.",
  upstream_malformed_chunk: "The upstream sent a malformed stream event.",
  upstream_response_too_large: "The upstream sent a stream event larger than the gateway accepts.",
};

/** What one upstream read led to. */
export type ReadState = "data" | "done" | "idle" | "error";

/** A started stream's end by error: the code the usage row gets and the error the caller gets. */
export interface StreamCut {
  code: string;
  error: OpenAIErrorBody;
  /** The provider reported it (an error event of its own), rather than the gateway deciding it. */
  byProvider: boolean;
}

function gatewayCut(code: StreamCutCode): StreamCut {
  const error = { error: { message: MESSAGES[code], type: "server_error", param: null, code } };
  return { code, error, byProvider: false };
}

/**
 * The provider's own error as the caller gets it (its message, type and code, bounded); its code,
 * when it gave one, is also the usage row's.
 */
function providerCut(providerError: ProviderError): StreamCut {
  const { message, type, code, param } = boundedProviderError(providerError);
  const error = { error: { message, type, param, code } };
  return { code: code ?? PROVIDER_STREAM_ERROR_CODE, error, byProvider: true };
}

/** What a relay has seen of a started stream, as far as how it ends goes. */
export interface SeenState {
  malformed: boolean;
  oversized: boolean;
  providerError: ProviderError | null;
  /** Set once the upstream body ended: whether its answer was complete. */
  complete: boolean | null;
}

/**
 * Why a started stream must end with an error now, or null while it goes on (`data`) or when it
 * ended complete: the same answer for both relays.
 */
export function streamCut(seen: SeenState, state: ReadState): StreamCut | null {
  if (seen.malformed) return gatewayCut("upstream_malformed_chunk");
  if (seen.oversized) return gatewayCut("upstream_response_too_large");
  if (seen.providerError) return providerCut(seen.providerError);
  if (state === "idle") return gatewayCut("upstream_idle_timeout");
  if (state === "error" || (state === "done" && !seen.complete))
    return gatewayCut("upstream_stream_interrupted");
  return null;
}

/** What a relay has seen of a stream when its first reads are done. */
export interface StartState {
  /** Something for the client exists: the answer has started. */
  started: boolean;
  malformed: boolean;
  oversized: boolean;
  providerError: ProviderError | null;
}

/** Why the stream cannot start after its first reads, or null when the client can have it. */
export function startFailure(state: StartState, first: ReadState): StreamStartError | null {
  if (state.oversized && !state.started) return new StreamStartError("upstream_response_too_large");
  if (first === "error") return new StreamStartError("upstream_stream_interrupted");
  if (state.malformed) return new StreamStartError("upstream_malformed_chunk");
  if (state.providerError && !state.started) {
    return new StreamStartError(PROVIDER_STREAM_ERROR_CODE, boundedProviderError(state.providerError));
  }
  if (first === "idle") return new StreamStartError("upstream_stream_interrupted");
  if (first === "done" && !state.started) return new StreamStartError("upstream_empty_stream");
  return null;
}
