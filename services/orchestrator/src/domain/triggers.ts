/** The data-driven trigger rules, pure; the trigger loop feeds them warehouse figures. */

/**
 * Whether `n` labels matured since the last label-count firing. Returns the debounce key of the
 * firing (the same on every instance that sees the same figures), or null.
 */
export function labelCountFiring(
  workflow: string,
  matured: number,
  lastFiredAt: number | null,
  n: number,
): { key: string; observed: number } | null {
  if (n <= 0) return null;
  const since = lastFiredAt ?? 0;
  if (matured - since < n) return null;
  return { key: `label-count:${workflow}:${since}`, observed: matured };
}

/**
 * Whether the champion's live average precision has fallen below `threshold`. One firing per
 * champion: a retrain that the gate refuses leaves the champion, and must not loop.
 */
export function driftFiring(
  workflow: string,
  championVersionId: string,
  liveAp: number | null,
  threshold: number | null,
): { key: string; observed: number } | null {
  if (threshold === null || liveAp === null || liveAp >= threshold) return null;
  return { key: `drift:${workflow}:${championVersionId}`, observed: liveAp };
}

/**
 * Whether the champion has degraded past `maxDrop` against the version it replaced, both
 * measured live on the same recent examples.
 */
export function rollbackDue(
  championAp: number | null,
  previousAp: number | null,
  maxDrop: number | null,
): boolean {
  if (maxDrop === null || championAp === null || previousAp === null) return false;
  return championAp < previousAp - maxDrop;
}
