/**
 * The OpenAI Responses API (`/v1/responses`): requests validated by a zod schema, then either sent
 * as they are to providers that speak it (`responses_api`), or translated to chat completions for
 * every other provider and their answers and streams translated back; conversation state in
 * Postgres, scoped to the tenant.
 */
export { responsesApiAdapter } from "./native";
export { nativeResponsesOutput, type OnFinalResponse, translatedResponsesOutput } from "./output";
export { inputItems, responsesRequestToChat } from "./request";
export { type ResponseFrame, responseIdOf } from "./response";
export { MAX_INPUT_ITEMS, RESPONSE_ID, type ResponsesBody, ResponsesRequest } from "./schema";
