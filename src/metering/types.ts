import type { TokenUsage } from "../providers/types";

/** Everything known about one finished request; the writer turns it into a usage_events row. */
export interface UsageRecord {
  /** The gateway's own id for the request (the row's key); never taken from the caller. */
  requestId: string;
  /** The caller's x-client-request-id / x-request-id, validated (at most 128 printable ASCII); null if none. */
  clientRequestId: string | null;
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
