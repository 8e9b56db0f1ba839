import { GatewayError } from "../../errors";

/**
 * A request this provider cannot serve (an endpoint it lacks, a content kind it cannot take).
 * It is a 400 for the caller, and routing may catch it to try a target of another kind instead.
 * @example throw new UnsupportedFeatureError("Anthropic has no embeddings endpoint.", null, "unsupported_endpoint")
 */
export class UnsupportedFeatureError extends GatewayError {
  constructor(message: string, param: string | null = null, code = "unsupported_feature") {
    super({ status: 400, type: "invalid_request_error", message, code, param });
    this.name = "UnsupportedFeatureError";
  }
}

/** A malformed field in the caller's body that a translation cannot carry over. */
export function invalidField(message: string, param: string): GatewayError {
  return new GatewayError({
    status: 400,
    type: "invalid_request_error",
    message,
    code: "invalid_value",
    param,
  });
}
