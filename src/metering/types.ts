import type { TokenUsage } from "../providers/types";

/** Everything known about one finished request; the writer turns it into a usage_events row. */
export interface UsageRecord {
  requestId: string;
  tenant: string;
  keyId: string;
  /** "chat" | "completions" | "embeddings" | "messages" */
  endpoint: string;
  requestedModel: string | null;
  provider: string | null;
  upstreamModel: string | null;
  stream: boolean;
  status: number;
  errorCode: string | null;
  usage: TokenUsage;
  usageSource: "provider" | "estimated";
  latencyMs: number;
  ttfbMs: number | null;
  attempts: number;
  tags: Record<string, string> | null;
  createdAt: Date;
}
