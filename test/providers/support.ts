import { createParser } from "eventsource-parser";
import type { ResponseContext, StreamTranslator, TokenUsage } from "../../src/providers";

/** The per-request facts every fixture is translated with, unless it says otherwise. */
export const CONTEXT: ResponseContext = {
  requestedModel: "my-model",
  id: "chatcmpl-req1",
  created: 1_700_000_000,
};

/** Raw SSE text in a fixture: one string, or its lines (each ended by "\n") for readability. */
export type SseText = string | string[];

export const sseText = (input: SseText): string =>
  Array.isArray(input) ? input.map((line) => `${line}\n`).join("") : input;

/** What a translator produced for one upstream body. */
export interface StreamRun {
  payloads: string[];
  complete: boolean;
  usage: TokenUsage | null;
  generatedText: string;
}

/**
 * Feeds an upstream SSE body to a translator the way the proxy does: bytes (cut at the given
 * offsets) through a streaming TextDecoder and eventsource-parser, then `finish()`.
 */
export function replay(translator: StreamTranslator, body: string, cuts: number[] = []): StreamRun {
  const bytes = new TextEncoder().encode(body);
  const decoder = new TextDecoder();
  const payloads: string[] = [];
  const parser = createParser({
    onEvent: (event) => payloads.push(...translator.push({ event: event.event, data: event.data })),
  });
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    parser.feed(decoder.decode(bytes.subarray(from, cut), { stream: true }));
    from = cut;
  }
  parser.feed(decoder.decode(bytes.subarray(from)));
  const end = translator.finish();
  payloads.push(...end.payloads);
  return {
    payloads,
    complete: end.complete,
    usage: translator.usage(),
    generatedText: translator.generatedText(),
  };
}

/** Splits SSE text into events with eventsource-parser, cutting the bytes at the given offsets. */
export function parseSse(body: string, cuts: number[] = []): { event?: string; data: string }[] {
  const bytes = new TextEncoder().encode(body);
  const decoder = new TextDecoder();
  const events: { event?: string; data: string }[] = [];
  const parser = createParser({ onEvent: (event) => events.push({ event: event.event, data: event.data }) });
  let from = 0;
  for (const cut of [...new Set(cuts)].sort((a, b) => a - b)) {
    parser.feed(decoder.decode(bytes.subarray(from, cut), { stream: true }));
    from = cut;
  }
  parser.feed(decoder.decode(bytes.subarray(from)));
  return events;
}

/**
 * A payload as a fixture writes it: "[DONE]" as is; a chunk in full when the fixture gives its
 * `object`, else compactly as `{delta, finish_reason?, index?}` or `{usage}` once the envelope
 * (id, object, created, model, one choice, logprobs null) has been checked.
 */
export function compactPayload(payload: string, ctx: ResponseContext, full: boolean): unknown {
  if (payload === "[DONE]") return payload;
  const chunk = JSON.parse(payload) as Record<string, unknown>;
  if (full) return chunk;
  const { id, object, created, model, choices, usage, ...rest } = chunk;
  if (
    id !== ctx.id ||
    object !== "chat.completion.chunk" ||
    created !== ctx.created ||
    model !== ctx.requestedModel
  ) {
    throw new Error(`bad chunk envelope: ${payload}`);
  }
  if (Object.keys(rest).length > 0) throw new Error(`unexpected chunk fields: ${payload}`);
  const list = choices as Record<string, unknown>[];
  if (usage !== undefined) {
    if (list.length !== 0) throw new Error(`usage chunk with choices: ${payload}`);
    return { usage };
  }
  if (list.length !== 1) throw new Error(`expected one choice: ${payload}`);
  const [choice] = list as [Record<string, unknown>];
  if (choice.logprobs !== null) throw new Error(`logprobs must be null: ${payload}`);
  const out: Record<string, unknown> = { delta: choice.delta };
  if (choice.finish_reason !== null) out.finish_reason = choice.finish_reason;
  if (choice.index !== 0) out.index = choice.index;
  return out;
}

/** One tool call as a client ends up with it. */
export interface AssembledToolCall {
  id: string;
  type: string;
  function: { name: string; arguments: string };
}

/** A streamed answer put back together the way OpenAI clients do, per choice. */
export interface AssembledChoice {
  content: string;
  reasoning: string;
  toolCalls: AssembledToolCall[];
  finishReason: string | null;
}

/**
 * Reassembles OpenAI chunks: content concatenated, tool calls keyed by `index` (id, type and
 * name from their first delta, arguments appended). A delta naming a new id at a used index, or
 * a fragment for an index never opened, is an error: that is the bug peers ship.
 */
export function reassemble(payloads: string[]): Map<number, AssembledChoice> {
  const choices = new Map<number, AssembledChoice>();
  for (const payload of payloads) {
    if (payload === "[DONE]") continue;
    const chunk = JSON.parse(payload) as {
      choices: { index: number; delta: Record<string, unknown>; finish_reason: string | null }[];
    };
    for (const { index, delta, finish_reason } of chunk.choices) {
      let choice = choices.get(index);
      if (!choice) {
        choice = { content: "", reasoning: "", toolCalls: [], finishReason: null };
        choices.set(index, choice);
      }
      if (typeof delta.content === "string") choice.content += delta.content;
      if (typeof delta.reasoning_content === "string") choice.reasoning += delta.reasoning_content;
      const calls = (delta.tool_calls ?? []) as {
        index: number;
        id?: string;
        type?: string;
        function?: { name?: string; arguments?: string };
      }[];
      for (const call of calls) {
        const existing = choice.toolCalls[call.index];
        if (call.id !== undefined) {
          if (existing) throw new Error(`tool call index ${call.index} opened twice`);
          if (call.index !== choice.toolCalls.length)
            throw new Error(`tool call index ${call.index} skips a position`);
          choice.toolCalls.push({
            id: call.id,
            type: call.type ?? "",
            function: { name: call.function?.name ?? "", arguments: call.function?.arguments ?? "" },
          });
        } else {
          if (!existing) throw new Error(`arguments for tool call index ${call.index} before its id`);
          existing.function.arguments += call.function?.arguments ?? "";
        }
      }
      if (finish_reason) choice.finishReason = finish_reason;
    }
  }
  return choices;
}
