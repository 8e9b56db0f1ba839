import type { KeyIdentity } from "./types";

/**
 * Matches `text` against a glob where `*` is any run of characters (including none and `/`) and
 * `?` is exactly one character. Case-sensitive. Linear backtracking, no RegExp, so a hostile
 * pattern or model name cannot blow up.
 *
 * @example globMatch("gpt-4o*", "gpt-4o-mini") // true
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let starAt = -1;
  let textAtStar = 0;
  while (t < text.length) {
    const pc = pattern[p];
    if (pc === "*") {
      starAt = p++;
      textAtStar = t;
    } else if (pc !== undefined && (pc === "?" || pc === text[t])) {
      p++;
      t++;
    } else if (starAt >= 0) {
      // Let the last `*` swallow one more character and retry from there.
      p = starAt + 1;
      t = ++textAtStar;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * True when any of the key's model patterns matches the requested model.
 *
 * @example modelAllowed(["gpt-4o*", "claude-?-haiku"], "gpt-4o-mini") // true
 */
export function modelAllowed(patterns: readonly string[], model: string): boolean {
  return patterns.some((pattern) => globMatch(pattern, model));
}

/**
 * True when any of the identity's scope patterns matches `scope` (so `*` grants every scope and
 * `usage:*` every usage scope).
 *
 * @example hasScope(identity, "chat")
 */
export function hasScope(identity: Pick<KeyIdentity, "scopes">, scope: string): boolean {
  return identity.scopes.some((pattern) => globMatch(pattern, scope));
}
