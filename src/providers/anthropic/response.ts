import { type ChoiceDraft, completionBody } from "../common/chat-response";
import type { ResponseContext, TokenUsage } from "../types";
import { JSON_TOOL_NAME } from "./request";
import { anthropicUsage, finishReasonOf } from "./vocabulary";

interface AnthropicBlock {
  type: string;
  text?: string;
  thinking?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

/**
 * A non-stream Messages answer as an OpenAI `chat.completion`. Text blocks join into `content`,
 * thinking into `reasoning_content`, `tool_use` blocks become `tool_calls`; the reserved JSON
 * tool's input becomes the text itself.
 */
export function parseMessage(
  json: unknown,
  ctx: ResponseContext,
): { body: Record<string, unknown>; usage: TokenUsage | null } {
  const message = (json ?? {}) as { content?: AnthropicBlock[]; stop_reason?: unknown; usage?: unknown };
  const choice: ChoiceDraft = {
    index: 0,
    text: "",
    reasoning: "",
    toolCalls: [],
    finishReason: finishReasonOf(message.stop_reason),
  };
  let answeredAsJson = false;
  for (const block of message.content ?? []) {
    if (block.type === "text") choice.text += block.text ?? "";
    else if (block.type === "thinking") choice.reasoning += block.thinking ?? "";
    else if (block.type === "tool_use" && block.name === JSON_TOOL_NAME) {
      choice.text += JSON.stringify(block.input ?? {});
      answeredAsJson = true;
    } else if (block.type === "tool_use") {
      choice.toolCalls.push({
        id: block.id ?? "",
        type: "function",
        function: { name: block.name ?? "", arguments: JSON.stringify(block.input ?? {}) },
      });
    }
  }
  if (answeredAsJson && choice.toolCalls.length === 0 && choice.finishReason === "tool_calls") {
    choice.finishReason = "stop";
  }
  const usage = anthropicUsage(message.usage);
  return { body: completionBody(ctx, [choice], usage), usage };
}
