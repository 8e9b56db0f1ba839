import { isPlainObject } from "../plain-object";
import type { Endpoint } from "../providers/types";
import { bytesToTokens, utf8Bytes } from "./text";

/**
 * Fixed token counts for what is not text, as (bound, estimate) pairs. The estimates are OpenAI's
 * cookbook counts; the bounds leave room for the other vendors' chat templates.
 */
const FRAMING = {
  /** Role and separators per message: OpenAI 3 (+1 with a name); Claude's and Gemini's turns ~4-5. */
  message: { bound: 8, estimate: 3 },
  /** A content block inside a message (text, tool_use, tool_result). */
  part: { bound: 4, estimate: 0 },
  /** Every reply is primed with `<|start|>assistant<|message|>` (or its vendor's equivalent). */
  reply: { bound: 8, estimate: 3 },
  /** Tool definitions: Anthropic adds a tool-use system prompt (346 tokens for Claude 4 models). */
  tools: { bound: 500, estimate: 0 },
} as const;

/**
 * An image part, whatever its size. Estimate: a 1024x1024 high-detail image on gpt-4o. Bound:
 * Claude's most (~1,600: 1.15 megapixels at 750 pixels a token), above gpt-4o's 1,445 (8 tiles) and
 * Gemini's 258 per 768-pixel tile. Not a proof: tokens depend on pixels the gateway never decodes,
 * and gpt-4o-mini bills images at ~33x the tokens (at 1/33 of the price).
 */
export const IMAGE_TOKENS = 765;
const IMAGE_TOKEN_BOUND = 1600;
/** Audio or file parts, which are not decoded here (a PDF page can be more). */
const MEDIA_TOKENS = 1000;

/** A prompt's tokens: the most it can be (reserved) and about what it is (metered when unreported). */
export interface PromptTokens {
  bound: number;
  estimate: number;
}

/** Adds up a prompt: text as UTF-8 bytes, token ids as themselves, fixed counts for the rest. */
class Counter {
  private bytes = 0;
  private tokens = 0;
  private fixedBound = 0;
  private fixedEstimate = 0;

  result(): PromptTokens {
    return {
      bound: this.bytes + this.tokens + this.fixedBound,
      estimate: bytesToTokens(this.bytes) + this.tokens + this.fixedEstimate,
    };
  }

  text(value: string): void {
    this.bytes += utf8Bytes(value);
  }

  fixed(counts: { bound: number; estimate: number }): void {
    this.fixedBound += counts.bound;
    this.fixedEstimate += counts.estimate;
  }

  /** Any JSON value: strings are text, token-id arrays count their length, objects count as JSON. */
  value(value: unknown): void {
    if (typeof value === "string") this.text(value);
    else if (isTokenIds(value)) this.tokens += value.length;
    else if (Array.isArray(value)) for (const item of value) this.value(item);
    else if (value !== null && value !== undefined) this.text(JSON.stringify(value));
  }

  /** Message content: a string, or parts (OpenAI, Responses and Anthropic shapes). */
  content(content: unknown): void {
    if (Array.isArray(content)) for (const part of content) this.part(part);
    else this.value(content);
  }

  private part(part: unknown): void {
    if (!isPlainObject(part)) {
      this.value(part);
      return;
    }
    const type = typeof part.type === "string" ? part.type : "";
    if (type.includes("image")) this.fixed({ bound: IMAGE_TOKEN_BOUND, estimate: IMAGE_TOKENS });
    else if (type.includes("audio") || type.includes("file") || type === "document")
      this.fixed({ bound: MEDIA_TOKENS, estimate: MEDIA_TOKENS });
    else if (typeof part.text === "string") this.text(part.text);
    else if (type === "tool_result") this.content(part.content);
    else this.value(part); // tool_use and anything newer: its JSON, id and name included
    this.fixed(FRAMING.part);
  }

  message(message: unknown): void {
    this.fixed(FRAMING.message);
    // Items without content (e.g. a Responses function_call) count as their JSON.
    if (!isPlainObject(message) || message.content === undefined) {
      this.value(message);
      return;
    }
    this.content(message.content);
    if (typeof message.name === "string") this.text(message.name);
    if (message.tool_calls !== undefined) this.value(message.tool_calls);
    if (message.function_call !== undefined) this.value(message.function_call);
  }
}

/**
 * Measures the prompt of an OpenAI chat/completions/embeddings body (also Responses and Anthropic
 * Messages shapes), once: message text and text parts, per-message framing, a fixed count per
 * image, and tool definitions and output schemas as JSON. Unknown shapes count as their JSON text.
 * `bound` is never below what OpenAI's tokenizers count for the text (see ./text.ts).
 * @example measurePrompt({ messages: [{ role: "user", content: "hi" }] }) // { bound: 18, estimate: 7 }
 */
export function measurePrompt(body: unknown, endpoint?: Endpoint): PromptTokens {
  const counter = new Counter();
  if (!isPlainObject(body)) {
    counter.value(body);
    return counter.result();
  }
  if (Array.isArray(body.messages)) {
    if (body.system !== undefined) counter.message({ content: body.system }); // Anthropic
    for (const message of body.messages) counter.message(message);
    counter.fixed(FRAMING.reply);
  } else if (body.prompt !== undefined) {
    counter.value(body.prompt); // completions: string, strings, token ids
  } else if (body.input !== undefined) {
    measureInput(counter, body, endpoint === "responses" || typeof body.instructions === "string");
  }
  for (const tools of [body.tools, body.functions]) {
    if (Array.isArray(tools) && tools.length > 0) counter.fixed(FRAMING.tools);
    if (tools !== undefined) counter.value(tools);
  }
  // Structured output schemas are rendered into the prompt (chat `response_format`, Responses `text`).
  if (isPlainObject(body.response_format)) counter.value(body.response_format);
  if (isPlainObject(body.text)) counter.value(body.text);
  return counter.result();
}

/** Responses input (items, or a string that is one user message) with `instructions`, or embeddings input. */
function measureInput(counter: Counter, body: Record<string, unknown>, responses: boolean): void {
  const items = Array.isArray(body.input) && body.input.some(isPlainObject);
  if (!responses && !items) {
    counter.value(body.input); // embeddings: string, strings, token ids
    return;
  }
  if (typeof body.instructions === "string") counter.message({ content: body.instructions });
  if (items) for (const item of body.input as unknown[]) counter.message(item);
  else counter.message({ content: body.input });
  counter.fixed(FRAMING.reply);
}

/**
 * About how many tokens a prompt is: usage rows the upstream reported nothing for, and count_tokens
 * answers no target can give.
 * @example estimatePromptTokens({ messages: [{ role: "user", content: "hi" }] }) // 7
 */
export function estimatePromptTokens(body: unknown, endpoint?: Endpoint): number {
  return measurePrompt(body, endpoint).estimate;
}

/**
 * The most tokens a prompt can be, for reservations.
 * @example promptTokenBound({ prompt: "hello world" }) // 11
 */
export function promptTokenBound(body: unknown, endpoint?: Endpoint): number {
  return measurePrompt(body, endpoint).bound;
}

const isTokenIds = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number");
