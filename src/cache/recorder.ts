import type { OutputFormat } from "../proxy/output";

type Json = Record<string, unknown>;
interface Choice {
  index: number;
  content: string;
  refusal: string;
  text: string;
  finishReason: unknown;
  toolCalls: Json[];
}

/**
 * Collects the OpenAI payloads of a streamed answer as they are framed for the caller, and
 * assembles them into the JSON answer they spell (what the cache stores), so a stream can be
 * served again as JSON or as a stream. Past `maxBytes` of payload text it stops collecting and
 * the answer is not stored; it never holds the stream back.
 * @example const recorder = new StreamRecorder(1_000_000); proxy(..., { ...request, output: recorder.wrap(request.output) })
 */
export class StreamRecorder {
  private bytes = 0;
  private overflow = false;
  private head: Json | null = null;
  private usage: unknown = null;
  private readonly choices = new Map<number, Choice>();

  constructor(private readonly maxBytes: number) {}

  /** The caller's output, its stream framing recording each payload first. */
  wrap(output: OutputFormat): OutputFormat {
    return {
      ...output,
      stream: (costOf) => {
        const format = output.stream(costOf);
        const frame = (payload: string, usage: Parameters<typeof format.frame>[1]) => {
          this.record(payload);
          return format.frame(payload, usage);
        };
        return { ...format, frame };
      },
    };
  }

  /** The assembled chat.completion or text_completion; null when nothing or too much came. */
  answer(): Json | null {
    if (this.overflow || !this.head) return null;
    const text = this.head.object === "text_completion";
    const choices = [...this.choices.values()]
      .sort((a, b) => a.index - b.index)
      .map((ch) => (text ? textChoice(ch) : chatChoice(ch)));
    return { ...this.head, object: text ? "text_completion" : "chat.completion", choices, usage: this.usage };
  }

  private record(payload: string): void {
    if (this.overflow || payload === "[DONE]") return;
    this.bytes += payload.length;
    if (this.bytes > this.maxBytes) {
      this.overflow = true;
      return;
    }
    let chunk: Json;
    try {
      chunk = JSON.parse(payload) as Json;
    } catch {
      this.overflow = true;
      return;
    }
    const { choices, usage, ...head } = chunk;
    this.head ??= head;
    if (usage && typeof usage === "object") this.usage = usage;
    if (Array.isArray(choices)) for (const choice of choices) this.add(choice as Json);
  }

  private add(choice: Json): void {
    const index = typeof choice.index === "number" ? choice.index : 0;
    let into = this.choices.get(index);
    if (!into) {
      into = { index, content: "", refusal: "", text: "", finishReason: null, toolCalls: [] };
      this.choices.set(index, into);
    }
    if (typeof choice.text === "string") into.text += choice.text;
    if (choice.finish_reason) into.finishReason = choice.finish_reason;
    const delta = (choice.delta ?? {}) as Json;
    if (typeof delta.content === "string") into.content += delta.content;
    if (typeof delta.refusal === "string") into.refusal += delta.refusal;
    if (Array.isArray(delta.tool_calls))
      for (const call of delta.tool_calls) addToolCall(into.toolCalls, call as Json);
  }
}

/** More tool calls than any answer makes: the index comes from the upstream, so it is bounded. */
const MAX_TOOL_CALLS = 128;

/** Merges one streamed tool-call fragment into the calls so far (by its index). */
function addToolCall(calls: Json[], fragment: Json): void {
  const index = typeof fragment.index === "number" ? fragment.index : calls.length;
  const fn = (fragment.function ?? {}) as Json;
  if (index < 0 || index >= MAX_TOOL_CALLS) return;
  if (!calls[index]) calls[index] = { id: "", type: "function", function: { name: "", arguments: "" } };
  const call = calls[index];
  const into = call.function as { name: string; arguments: string };
  if (typeof fragment.id === "string") call.id = fragment.id;
  if (typeof fn.name === "string") into.name += fn.name;
  if (typeof fn.arguments === "string") into.arguments += fn.arguments;
}

function chatChoice(ch: Choice): Json {
  const message: Json = { role: "assistant", content: ch.content || (ch.toolCalls.length ? null : "") };
  if (ch.refusal) message.refusal = ch.refusal;
  if (ch.toolCalls.length) message.tool_calls = ch.toolCalls.filter(Boolean);
  return { index: ch.index, message, logprobs: null, finish_reason: ch.finishReason ?? "stop" };
}

function textChoice(ch: Choice): Json {
  return { index: ch.index, text: ch.text, logprobs: null, finish_reason: ch.finishReason ?? "stop" };
}
