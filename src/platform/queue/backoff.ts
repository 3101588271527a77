const MAX_BACKOFF_MS = 10 * 60_000;

/**
 * Delay before retry number `failedAttempts` (1 after the first failure): exponential, capped,
 * with up to 20% random jitter so retries of a burst of failures do not land together.
 */
export function retryDelayMs(options: {
  failedAttempts: number;
  baseMs: number;
  random?: () => number;
}): number {
  const exponent = Math.max(0, options.failedAttempts - 1);
  const raw = Math.min(MAX_BACKOFF_MS, options.baseMs * 2 ** Math.min(exponent, 30));
  const jitter = raw * 0.2 * (options.random ?? Math.random)();
  return Math.round(Math.min(MAX_BACKOFF_MS, raw - jitter));
}

/** Broker message ids must be unique per delivery round and BullMQ forbids `:` in custom ids. */
export function messageIdFor(jobId: string, attempts: number): string {
  return `${encodeURIComponent(jobId)}.${attempts}`;
}
