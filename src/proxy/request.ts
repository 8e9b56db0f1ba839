import type { GatewayError } from "../errors";
import type { Endpoint, ProviderAdapter, WireFormat } from "../providers";
import type { OutputFormat } from "./output";

/** A parsed request, as a route hands it to `proxy()`. */
export interface ProxyRequest {
  endpoint: Endpoint;
  /** Validated OpenAI body; unknown fields kept. */
  body: Record<string, unknown> & { model: string };
  stream: boolean;
  /** The shape of the answer: OpenAI's, or Anthropic's on /v1/messages. */
  output: OutputFormat;
  /** The caller's own wire format, carried as it is to targets that speak it. */
  native?: NativeCall;
}

/**
 * A request in a provider's own format (Anthropic Messages, Gemini generateContent): a target of
 * that kind gets the caller's body as it came (model rewritten) and the caller gets its answer as
 * it came; targets of other kinds get `ProxyRequest.body`, the translation, and `output` shapes
 * their answers back.
 */
export interface NativeCall {
  kind: WireFormat;
  adapter: ProviderAdapter;
  /** The caller's original body, not the parsed one. */
  body: Record<string, unknown>;
  /** Raw: the stream relayed byte for byte, the JSON answer as the target wrote it. */
  output: OutputFormat;
  /** Why the body cannot be translated for other kinds of target (they then refuse it), or null. */
  untranslatable: GatewayError | null;
  /**
   * Which providers of that kind speak the format, by config name, when not all do (the
   * Responses API: only OpenAI-compatible providers with `responses_api`); unset, all do.
   */
  accepts?: (provider: string) => boolean;
}
