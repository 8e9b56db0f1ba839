/**
 * The gateway's token estimates, one tokenizer for all of them: the prompt before the call (made
 * once per request), the most a request may use (reserved by limits), and the usage of an answer
 * the upstream did not report (metered as `estimated`).
 */
export { maxOutputTokens } from "./max-output";
export { estimatePromptTokens, IMAGE_TOKENS } from "./prompt";
export { countTextTokens } from "./tokenizer";
export { estimateUsage } from "./usage";
export { requestWorstCase, type WorstCase, type WorstCaseInput } from "./worst-case";
