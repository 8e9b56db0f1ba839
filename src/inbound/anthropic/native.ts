import type { OutputFormat } from "../../proxy/output";
import { anthropicOutput } from "./output";

/**
 * Output of a native Anthropic answer: the stream relayed byte for byte (only a cut the gateway
 * makes adds Anthropic's `error` event), the JSON answer as Anthropic wrote it.
 * @example proxy(c, { ..., native: { kind: "anthropic", output: anthropicNativeOutput(model), ... } }, timing)
 */
export function anthropicNativeOutput(requestedModel: string): OutputFormat {
  const translated = anthropicOutput(requestedModel);
  return {
    raw: true,
    stream: (costOf) => ({ ...translated.stream(costOf), frame: () => null, raw: true }),
    json: (body) => body,
  };
}
