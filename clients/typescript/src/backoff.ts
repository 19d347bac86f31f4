/**
 * The delay before reconnect attempt `attempt` (0 for the first): exponential
 * from `minMs`, capped at `maxMs`, with "equal jitter" (half fixed, half
 * random) so that clients dropped together by one restart do not return
 * together, yet none retries at once in a tight loop.
 */
export function backoffDelay(attempt: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
