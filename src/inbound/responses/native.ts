import { adapterFor, type ProviderAdapter } from "../../providers";
import { createResponsesStreamReader } from "../../providers/openai-responses";

/**
 * The OpenAI adapter fixed to the Responses API, for targets that speak it natively on a route
 * where others get chat completions: whatever endpoint the pipeline names (`chat`, the
 * translation's), the body goes to `/responses` and the answer is read as a Response.
 * @example request.native = { kind: "openai", adapter: responsesApiAdapter(), body, output, untranslatable: null }
 */
export function responsesApiAdapter(): ProviderAdapter {
  const openai = adapterFor("openai");
  return {
    ...openai,
    buildRequest: (_endpoint, body, target, stream) => openai.buildRequest("responses", body, target, stream),
    parseResponse: (_endpoint, json, ctx) => openai.parseResponse("responses", json, ctx),
    streamTranslator: () => createResponsesStreamReader(),
  };
}
