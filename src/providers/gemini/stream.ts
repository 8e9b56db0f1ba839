import { deltaChunk, parseEventData, usageChunk } from "../common/chat-response";
import { UNREADABLE_STREAM_ERROR } from "../common/error-body";
import {
  MalformedUpstreamError,
  type ProviderError,
  type ResponseContext,
  type StreamTranslator,
  type TokenUsage,
} from "../types";
import { parseGeminiErrorBody } from "./error";
import {
  finishReasonOf,
  type GeminiCandidate,
  type GeminiResponse,
  geminiUsage,
  toolCallOf,
} from "./response";

interface CandidateState {
  toolCalls: number;
  finished: boolean;
}

/**
 * Translates `streamGenerateContent?alt=sse` events (each a whole GenerateContentResponse) into
 * OpenAI chunks. Gemini sends each function call whole, so a tool call is one delta with id,
 * name and arguments. Gemini has no end event: the answer is complete when every candidate sent
 * a `finishReason`, and the usage chunk and `[DONE]` come from `finish()` at the end of the body,
 * with the usage of the last `usageMetadata` seen. An error object in the stream ends the answer
 * incomplete and is kept for `upstreamError()`. A data line that is not a JSON object throws
 * `MalformedUpstreamError`.
 * @example const translator = createGeminiStreamTranslator(ctx); translator.push({ data })
 */
export function createGeminiStreamTranslator(ctx: ResponseContext): StreamTranslator {
  return new GeminiStreamTranslator(ctx);
}

class GeminiStreamTranslator implements StreamTranslator {
  private readonly candidates = new Map<number, CandidateState>();
  private rawUsage: unknown = null;
  private failure: ProviderError | null = null;
  private usageSent = false;
  private generated = "";

  constructor(private readonly ctx: ResponseContext) {}

  push({ data }: { event?: string; data: string }): string[] {
    if (this.failure) return [];
    const payload = parseEventData(data);
    if (!payload) throw new MalformedUpstreamError();
    if (payload.error) {
      this.failure = parseGeminiErrorBody(payload) ?? UNREADABLE_STREAM_ERROR;
      return [];
    }
    const response = payload as GeminiResponse;
    if (response.usageMetadata) this.rawUsage = response.usageMetadata;
    const out: string[] = [];
    for (const candidate of response.candidates ?? []) this.onCandidate(candidate, out);
    if (!response.candidates?.length && response.promptFeedback?.blockReason) this.onPromptBlocked(out);
    return out;
  }

  finish(): { payloads: string[]; complete: boolean } {
    const states = [...this.candidates.values()];
    const done = !this.failure && states.length > 0 && states.every((c) => c.finished);
    const payloads = this.usagePayloads();
    if (done) payloads.push("[DONE]");
    return { payloads, complete: done };
  }

  usage(): TokenUsage | null {
    return geminiUsage(this.rawUsage);
  }

  generatedText(): string {
    return this.generated;
  }

  upstreamError(): ProviderError | null {
    return this.failure;
  }

  private usagePayloads(): string[] {
    const known = this.usage();
    if (!known || this.usageSent) return [];
    this.usageSent = true;
    return [usageChunk(this.ctx, known)];
  }

  /** The candidate's state; its first sight opens its choice with the assistant role. */
  private stateOf(index: number, out: string[]): CandidateState {
    let state = this.candidates.get(index);
    if (!state) {
      state = { toolCalls: 0, finished: false };
      this.candidates.set(index, state);
      out.push(deltaChunk(this.ctx, index, { role: "assistant", content: "" }));
    }
    return state;
  }

  private onCandidate(candidate: GeminiCandidate, out: string[]): void {
    const ctx = this.ctx;
    const index = candidate.index ?? 0;
    const state = this.stateOf(index, out);
    if (state.finished) return;
    for (const part of candidate.content?.parts ?? []) {
      if (part.functionCall) {
        const call = toolCallOf(part, ctx, index, state.toolCalls);
        out.push(deltaChunk(ctx, index, { tool_calls: [{ index: state.toolCalls, ...call }] }));
        this.generated += call.function.arguments;
        state.toolCalls++;
      } else if (part.thought && part.text) {
        out.push(deltaChunk(ctx, index, { reasoning_content: part.text }));
        this.generated += part.text;
      } else if (part.text) {
        out.push(deltaChunk(ctx, index, { content: part.text }));
        this.generated += part.text;
      }
    }
    if (candidate.finishReason) {
      state.finished = true;
      out.push(deltaChunk(ctx, index, {}, finishReasonOf(candidate.finishReason, state.toolCalls > 0)));
    }
  }

  /** A prompt blocked before any candidate: one choice, ended by the filter. */
  private onPromptBlocked(out: string[]): void {
    const state = this.stateOf(0, out);
    if (state.finished) return;
    state.finished = true;
    out.push(deltaChunk(this.ctx, 0, {}, "content_filter"));
  }
}
