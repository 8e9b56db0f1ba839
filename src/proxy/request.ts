import type { Endpoint } from "../providers";
import type { OutputFormat } from "./output";

/** A parsed request, as a route hands it to `proxy()`. */
export interface ProxyRequest {
  endpoint: Endpoint;
  /** Validated OpenAI body; unknown fields kept. */
  body: Record<string, unknown> & { model: string };
  stream: boolean;
  /** The shape of the answer: OpenAI's, or Anthropic's on /v1/messages. */
  output: OutputFormat;
}
