import { digest } from "../digest";

/**
 * Compares a presented admin token with the configured one in constant time. Both are hashed first,
 * so the comparison always covers 32 bytes and leaks neither content nor length. An empty expected
 * token never matches: a missing secret must not open the admin API.
 *
 * @example await adminTokenMatches(extractToken(c.req.raw.headers), env.ADMIN_TOKEN)
 */
export async function adminTokenMatches(
  presented: string | null | undefined,
  expected: string,
): Promise<boolean> {
  if (!expected || !presented) return false;
  const [a, b] = await Promise.all([digest("SHA-256", presented), digest("SHA-256", expected)]);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
