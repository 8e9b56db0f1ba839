/**
 * Anthropic's wire vocabulary beside OpenAI's, one table for each word: error types (with the
 * status Anthropic sends each with), stop reasons and usage. The adapter (OpenAI in, Anthropic
 * upstream) reads them one way, the Anthropic-compatible route (Anthropic in, any provider) the
 * other way; both read them from here.
 */
import { count, type FinishReason } from "../common/chat-response";
import { readOpenAIUsage } from "../openai";
import type { TokenUsage } from "../types";

/** One Anthropic error type: the status Anthropic sends it with and its OpenAI type and code. */
interface ErrorKind {
  anthropic: string;
  status: number;
  openaiType: string;
  openaiCode: string;
}

/**
 * Anthropic's error types. Where OpenAI spells the type the same way, the code repeats it. For
 * the reverse lookups the first row with a given OpenAI type wins (`api_error` is a 500, not a 529).
 */
const ERROR_KINDS: readonly ErrorKind[] = [
  {
    anthropic: "invalid_request_error",
    status: 400,
    openaiType: "invalid_request_error",
    openaiCode: "invalid_request_error",
  },
  {
    anthropic: "authentication_error",
    status: 401,
    openaiType: "authentication_error",
    openaiCode: "invalid_api_key",
  },
  {
    anthropic: "billing_error",
    status: 402,
    openaiType: "insufficient_quota",
    openaiCode: "insufficient_quota",
  },
  {
    anthropic: "permission_error",
    status: 403,
    openaiType: "permission_error",
    openaiCode: "permission_error",
  },
  { anthropic: "not_found_error", status: 404, openaiType: "not_found_error", openaiCode: "not_found_error" },
  {
    anthropic: "request_too_large",
    status: 413,
    openaiType: "invalid_request_error",
    openaiCode: "request_too_large",
  },
  {
    anthropic: "rate_limit_error",
    status: 429,
    openaiType: "rate_limit_error",
    openaiCode: "rate_limit_error",
  },
  { anthropic: "api_error", status: 500, openaiType: "api_error", openaiCode: "api_error" },
  { anthropic: "timeout_error", status: 504, openaiType: "timeout_error", openaiCode: "timeout" },
  { anthropic: "overloaded_error", status: 529, openaiType: "api_error", openaiCode: "overloaded" },
];

/** A Map from one column of ERROR_KINDS to another; the first row wins a repeated key. */
function errorIndex<K, V>(key: (kind: ErrorKind) => K, value: (kind: ErrorKind) => V): ReadonlyMap<K, V> {
  const index = new Map<K, V>();
  for (const kind of ERROR_KINDS) if (!index.has(key(kind))) index.set(key(kind), value(kind));
  return index;
}

const BY_ANTHROPIC_TYPE = errorIndex(
  (k) => k.anthropic,
  (k) => k,
);
const TYPE_OF_STATUS = errorIndex(
  (k) => k.status,
  (k) => k.anthropic,
);
const STATUS_OF_OPENAI_CODE = errorIndex(
  (k) => k.openaiCode,
  (k) => k.status,
);
const STATUS_OF_OPENAI_TYPE = errorIndex(
  (k) => k.openaiType,
  (k) => k.status,
);

/**
 * An Anthropic error type in OpenAI terms; a type it does not know becomes `api_error`, its name
 * kept as the code.
 * @example openAIErrorOfType("overloaded_error") // { type: "api_error", code: "overloaded" }
 */
export function openAIErrorOfType(anthropicType: string): { type: string; code: string } {
  const kind = BY_ANTHROPIC_TYPE.get(anthropicType);
  return kind ? { type: kind.openaiType, code: kind.openaiCode } : { type: "api_error", code: anthropicType };
}

/**
 * The error type Anthropic sends with a status; other 4xx are invalid requests, 5xx api errors.
 * @example anthropicErrorTypeOfStatus(529) // "overloaded_error"
 */
export function anthropicErrorTypeOfStatus(status: number): string {
  return TYPE_OF_STATUS.get(status) ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

/**
 * The status Anthropic would send an OpenAI-shaped error with, read from its code, then its type
 * (`overloaded` is a 529, `rate_limit_error` a 429); null when neither names an Anthropic error.
 * For errors that come without a status of their own, such as a provider's mid-stream error.
 * @example anthropicStatusOf({ type: "api_error", code: "overloaded" }) // 529
 */
export function anthropicStatusOf(error: { type?: unknown; code?: unknown }): number | null {
  return (
    STATUS_OF_OPENAI_CODE.get(error.code as string) ?? STATUS_OF_OPENAI_TYPE.get(error.type as string) ?? null
  );
}

/** Anthropic's `stop_reason` to OpenAI's `finish_reason`; anything else (end_turn, stop_sequence, pause_turn) is "stop". */
const FINISH_REASONS: ReadonlyMap<unknown, FinishReason> = new Map<unknown, FinishReason>([
  ["max_tokens", "length"],
  ["model_context_window_exceeded", "length"],
  ["tool_use", "tool_calls"],
  ["refusal", "content_filter"],
]);

/** OpenAI's `finish_reason` to Anthropic's `stop_reason`; anything else is "end_turn". */
const STOP_REASONS: ReadonlyMap<unknown, string> = new Map<unknown, string>([
  ["length", "max_tokens"],
  ["tool_calls", "tool_use"],
  ["function_call", "tool_use"],
  ["content_filter", "refusal"],
]);

/**
 * Anthropic's `stop_reason` as an OpenAI `finish_reason`.
 * @example finishReasonOf("max_tokens") // "length"
 */
export function finishReasonOf(stopReason: unknown): FinishReason {
  return FINISH_REASONS.get(stopReason) ?? "stop";
}

/**
 * OpenAI's `finish_reason` as Anthropic's `stop_reason`.
 * @example stopReasonOf("tool_calls") // "tool_use"
 */
export function stopReasonOf(finishReason: unknown): string {
  return STOP_REASONS.get(finishReason) ?? "end_turn";
}

/**
 * Anthropic usage in OpenAI terms: Anthropic's `input_tokens` excludes cache reads and writes,
 * OpenAI's `prompt_tokens` includes them, so the three are summed and the cached parts kept apart.
 * Anthropic does not report thinking tokens separately: they are in `output_tokens`.
 * @example anthropicUsage({ input_tokens: 5, cache_read_input_tokens: 100, output_tokens: 7 })
 */
export function anthropicUsage(raw: unknown): TokenUsage | null {
  if (!raw || typeof raw !== "object") return null;
  const u = raw as Record<string, unknown>;
  const cacheRead = count(u.cache_read_input_tokens);
  const cacheWrite = count(u.cache_creation_input_tokens);
  // The TTL split; without it every write is priced at the 5-minute rate.
  const split = (u.cache_creation ?? {}) as Record<string, unknown>;
  const write1h = Math.min(count(split.ephemeral_1h_input_tokens), cacheWrite);
  return {
    promptTokens: count(u.input_tokens) + cacheRead + cacheWrite,
    completionTokens: count(u.output_tokens),
    cachedReadTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    ...(write1h > 0 ? { cacheWrite1hTokens: write1h } : {}),
    reasoningTokens: 0,
  };
}

/**
 * An OpenAI usage object as Anthropic's, the way back: cache reads and writes leave `input_tokens`.
 * @example anthropicUsageOf({ prompt_tokens: 105, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 100 } })
 */
export function anthropicUsageOf(openaiUsage: unknown): {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
} {
  const usage = readOpenAIUsage(openaiUsage);
  const details = ((openaiUsage as Record<string, unknown> | null)?.prompt_tokens_details ?? {}) as Record<
    string,
    unknown
  >;
  const cacheWrite = typeof details.cache_write_tokens === "number" ? details.cache_write_tokens : 0;
  const cacheRead = usage?.cachedReadTokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.promptTokens ?? 0) - cacheRead - cacheWrite),
    output_tokens: usage?.completionTokens ?? 0,
    cache_creation_input_tokens: cacheWrite,
    cache_read_input_tokens: cacheRead,
  };
}
