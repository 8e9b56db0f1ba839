import { anthropicUsageOf, stopReasonOf } from "../../providers/anthropic";

type Json = Record<string, unknown>;

/** An Anthropic message id from an OpenAI completion id. */
export function messageIdOf(openaiId: unknown): string {
  const base = typeof openaiId === "string" ? openaiId.replace(/^chatcmpl-/, "") : "";
  return `msg_${base.replace(/[^a-zA-Z0-9_-]/g, "_") || "unknown"}`;
}

/** Tool call arguments as the object Anthropic's `input` must be; text that is no object becomes `{}`. */
export function toolInputOf(args: unknown): Json {
  if (typeof args !== "string" || args.trim() === "") return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

/**
 * An OpenAI `chat.completion` as an Anthropic message (first choice only: Anthropic has one).
 * Reasoning text is not carried: Anthropic thinking blocks need a signature only Anthropic makes.
 * @example openAIResponseToAnthropic(completion, "claude-sonnet-4-5")
 */
export function openAIResponseToAnthropic(openaiJson: unknown, requestedModel: string): Json {
  const completion = (openaiJson ?? {}) as { id?: unknown; choices?: Json[]; usage?: unknown };
  const choice = completion.choices?.[0] ?? {};
  const message = (choice.message ?? {}) as {
    content?: unknown;
    refusal?: unknown;
    tool_calls?: { id?: string; function?: { name?: string; arguments?: string } }[];
  };
  const content: Json[] = [];
  const text = typeof message.content === "string" ? message.content : "";
  if (text !== "") content.push({ type: "text", text });
  else if (typeof message.refusal === "string" && message.refusal !== "") {
    content.push({ type: "text", text: message.refusal });
  }
  for (const call of message.tool_calls ?? []) {
    content.push({
      type: "tool_use",
      id: call.id ?? "",
      name: call.function?.name ?? "",
      input: toolInputOf(call.function?.arguments),
    });
  }
  return {
    id: messageIdOf(completion.id),
    type: "message",
    role: "assistant",
    model: requestedModel,
    content,
    stop_reason:
      typeof message.refusal === "string" && message.refusal !== ""
        ? "refusal"
        : stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: anthropicUsageOf(completion.usage),
  };
}
