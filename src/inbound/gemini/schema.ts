import * as z from "zod";

/**
 * The Gemini API's requests (`generateContent`, `streamGenerateContent`, `countTokens`,
 * `embedContent`, `batchEmbedContents`), checked before anything is translated, reserved or sent.
 * Objects are loose (fields we don't know pass on to a Gemini target untouched); what the
 * translation reads is checked, so a 400 names the exact field.
 */

const Json = z.record(z.string(), z.unknown());

const Part = z.looseObject({
  text: z.string().optional(),
  inlineData: z.looseObject({ mimeType: z.string().min(1), data: z.string() }).optional(),
  functionCall: z.looseObject({ name: z.string().min(1), args: Json.nullable().optional() }).optional(),
  functionResponse: z
    .looseObject({ name: z.string().min(1), response: Json.nullable().optional() })
    .optional(),
  thought: z.boolean().optional(),
});

const Content = z.looseObject({
  role: z.string().optional(),
  parts: z.array(Part).max(10_000),
});

const FunctionDeclaration = z.looseObject({
  name: z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_.:-]{0,63}$/, "must be 1-64 letters, digits, _ . : or -"),
  description: z.string().optional(),
  parameters: Json.optional(),
  parametersJsonSchema: z.unknown().optional(),
});

const GenerationConfig = z.looseObject({
  temperature: z.number().min(0).max(2).optional(),
  topP: z.number().min(0).max(1).optional(),
  topK: z.number().int().min(1).optional(),
  maxOutputTokens: z.int().min(1).optional(),
  candidateCount: z.int().min(1).max(8).optional(),
  stopSequences: z.array(z.string()).max(5).optional(),
  presencePenalty: z.number().optional(),
  frequencyPenalty: z.number().optional(),
  seed: z.int().optional(),
  responseMimeType: z.string().optional(),
  responseSchema: Json.optional(),
  responseJsonSchema: z.unknown().optional(),
});

/** `:generateContent` and `:streamGenerateContent`. */
export const GenerateContentRequest = z.looseObject({
  contents: z.array(Content).min(1),
  systemInstruction: Content.optional(),
  tools: z.array(z.looseObject({ functionDeclarations: z.array(FunctionDeclaration).optional() })).optional(),
  toolConfig: z
    .looseObject({
      functionCallingConfig: z
        .looseObject({
          mode: z.enum(["AUTO", "ANY", "NONE", "VALIDATED", "MODE_UNSPECIFIED"]).optional(),
          allowedFunctionNames: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  generationConfig: GenerationConfig.optional(),
  cachedContent: z.string().optional(),
});

/** `:countTokens`: contents, or a whole generateContent request. */
export const CountTokensRequest = z.looseObject({
  contents: z.array(Content).optional(),
  generateContentRequest: GenerateContentRequest.partial({ contents: true }).optional(),
});

const EmbedContent = z.looseObject({
  model: z.string().optional(),
  content: Content,
  outputDimensionality: z.int().min(1).optional(),
});

/** `:embedContent`. */
export const EmbedContentRequest = EmbedContent;

/** `:batchEmbedContents`. */
export const BatchEmbedContentsRequest = z.looseObject({ requests: z.array(EmbedContent).min(1).max(2048) });

export type GenerateContentBody = z.output<typeof GenerateContentRequest>;
export type CountTokensBody = z.output<typeof CountTokensRequest>;
export type EmbedContentBody = z.output<typeof EmbedContent>;
export type GeminiContent = z.output<typeof Content>;
