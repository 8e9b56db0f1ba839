/**
 * The gateway's token counts, without a tokenizer: the prompt before the call (measured once per
 * request, as a bound and an estimate), the most a request may use (reserved by limits, from the
 * bound), and the usage of an answer the upstream did not report (metered as `estimated`).
 */
export { maxOutputTokens } from "./max-output";
export {
  estimatePromptTokens,
  IMAGE_TOKENS,
  measurePrompt,
  type PromptTokens,
  promptTokenBound,
} from "./prompt";
export { estimateTextTokens, textTokenBound, utf8Bytes } from "./text";
export { estimateUsage } from "./usage";
export { requestWorstCase, type WorstCase, type WorstCaseInput } from "./worst-case";
