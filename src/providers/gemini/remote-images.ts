import { type ChatMessage, type ContentPart, imageUrlOf, isHttpUrl } from "../common/chat-request";

/**
 * Fetches one caller-supplied image. The gateway's implementation must be SSRF-safe (https to
 * public addresses only, size, time and redirect limits) and throw a 400 otherwise.
 */
export type ImageFetcher = (url: string) => Promise<{ mimeType: string; base64: string }>;

/** True when a chat body holds an http(s) image URL that Gemini cannot take as is. */
export function hasRemoteImages(body: Record<string, unknown>): boolean {
  return remoteImageParts(body).length > 0;
}

/**
 * The hook for Gemini's one need to fetch: a copy of an OpenAI chat body whose http(s) image
 * URLs are replaced by base64 data URLs, each distinct URL fetched once by `fetchImage`. The
 * Gemini adapter itself never fetches; without this step it refuses remote images with a 400.
 * @example const inlined = await inlineRemoteImages(body, safeFetchImage)
 */
export async function inlineRemoteImages(
  body: Record<string, unknown>,
  fetchImage: ImageFetcher,
): Promise<Record<string, unknown>> {
  const urls = [...new Set(remoteImageParts(body).map(imageUrlOf))];
  if (urls.length === 0) return body;
  const fetched = new Map(
    await Promise.all(
      urls.map(async (url) => {
        const image = await fetchImage(url);
        return [url, `data:${image.mimeType};base64,${image.base64}`] as const;
      }),
    ),
  );
  const messages = (body.messages as ChatMessage[]).map((message) => {
    if (!Array.isArray(message.content)) return message;
    const content = message.content.map((part) => {
      const dataUrl = part.type === "image_url" ? fetched.get(imageUrlOf(part)) : undefined;
      return dataUrl ? { ...part, image_url: { url: dataUrl } } : part;
    });
    return { ...message, content };
  });
  return { ...body, messages };
}

function remoteImageParts(body: Record<string, unknown>): ContentPart[] {
  if (!Array.isArray(body.messages)) return [];
  return (body.messages as ChatMessage[]).flatMap((message) =>
    Array.isArray(message.content)
      ? message.content.filter((part) => part.type === "image_url" && isHttpUrl(imageUrlOf(part)))
      : [],
  );
}
