/** One SSE `data:` frame, as OpenAI frames them. */
export const sseData = (payload: string): string => `data: ${payload}\n\n`;

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache",
  connection: "keep-alive",
} as const;
