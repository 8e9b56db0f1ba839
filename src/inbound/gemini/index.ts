/**
 * The Gemini-native direction (`POST /v1beta/models/{model}:{method}`): Gemini requests in,
 * carried natively to Gemini targets and translated (OpenAI bodies through the gateway, Gemini
 * answers, events and errors back out) to the others.
 */
export { geminiErrors, geminiKey, geminiRoutes, isGeminiCall } from "./routes";
