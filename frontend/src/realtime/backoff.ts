// Full-jitter exponential backoff: attempt n waits uniformly between 1 s and min(30 s, 1 s * 2^n).
export const BACKOFF_BASE_MS = 1000;
export const BACKOFF_CAP_MS = 30_000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, attempt));
  return Math.round(BACKOFF_BASE_MS + random() * (ceiling - BACKOFF_BASE_MS));
}
