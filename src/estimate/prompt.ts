import { isPlainObject } from "../plain-object";
import { countPromptText } from "./tokenizer";

/** Chat framing per message (role, separators), as OpenAI's cookbook counts it. */
const TOKENS_PER_MESSAGE = 3;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
const TOKENS_PER_REPLY = 3;
/** An image part, whatever its size: a 1024x1024 high-detail image costs 765 tokens. */
export const IMAGE_TOKENS = 765;
/** Audio or file parts, which are not tokenized here. */
const MEDIA_TOKENS = 1000;
/** Characters tokenized exactly per body; beyond them the rest is extrapolated, bounding CPU time. */
const EXACT_CHARS_PER_BODY = 100_000;
/** Characters per token assumed before any text has been tokenized. */
const DEFAULT_CHARS_PER_TOKEN = 4;

/** Counts texts exactly up to a character budget, then extrapolates from the ratio seen so far. */
class Counter {
  private exactCharsLeft = EXACT_CHARS_PER_BODY;
  private charsSeen = 0;
  private tokensSeen = 0;
  total = 0;

  text(value: string): void {
    if (value.length === 0) return;
    if (value.length <= this.exactCharsLeft) {
      const tokens = countPromptText(value);
      this.exactCharsLeft -= value.length;
      this.charsSeen += value.length;
      this.tokensSeen += tokens;
      this.total += tokens;
      return;
    }
    const charsPerToken = this.tokensSeen > 0 ? this.charsSeen / this.tokensSeen : DEFAULT_CHARS_PER_TOKEN;
    this.total += Math.ceil(value.length / charsPerToken);
  }

  add(tokens: number): void {
    this.total += tokens;
  }

  /** Any JSON value: strings are text, token-id arrays count their length, objects count as JSON. */
  value(value: unknown): void {
    if (typeof value === "string") this.text(value);
    else if (isTokenIds(value)) this.add(value.length);
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
    if (type.includes("image")) this.add(IMAGE_TOKENS);
    else if (type.includes("audio") || type.includes("file") || type === "document") this.add(MEDIA_TOKENS);
    else if (typeof part.text === "string") this.text(part.text);
    else if (type === "tool_result") this.content(part.content);
    else if (type === "tool_use") this.value(part.input);
    else this.value(part);
  }

  message(message: unknown): void {
    this.add(TOKENS_PER_MESSAGE);
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
 * Estimates the prompt tokens of an OpenAI chat/completions/embeddings body (also Responses and
 * Anthropic Messages shapes): message text and text parts, a per-message overhead, a fixed count
 * per image, and tool definitions as JSON. Unknown shapes count as their JSON text.
 * @example estimatePromptTokens({ model: "gpt-4o", messages: [{ role: "user", content: "hi" }] }) // 7
 */
export function estimatePromptTokens(body: unknown): number {
  const counter = new Counter();
  if (!isPlainObject(body)) {
    counter.value(body);
    return counter.total;
  }
  if (Array.isArray(body.messages)) {
    if (body.system !== undefined) counter.content(body.system); // Anthropic
    for (const message of body.messages) counter.message(message);
    counter.add(TOKENS_PER_REPLY);
  } else if (body.prompt !== undefined) {
    counter.value(body.prompt); // completions: string, strings, token ids
  } else if (body.input !== undefined) {
    if (typeof body.instructions === "string") counter.text(body.instructions); // Responses
    if (Array.isArray(body.input) && body.input.some(isPlainObject)) {
      for (const item of body.input) counter.message(item);
    } else {
      counter.value(body.input); // embeddings: string, strings, token ids
    }
  }
  if (body.tools !== undefined) counter.value(body.tools);
  if (body.functions !== undefined) counter.value(body.functions);
  return counter.total;
}

const isTokenIds = (value: unknown): value is number[] =>
  Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === "number");
