/**
 * The tests' one way to wait for something that happens elsewhere (a child process, a socket, the page): poll a
 * probe until it gives a truthy value, and fail naming what was awaited when it does not come in time.
 */

export interface UntilOptions {
  /** Milliseconds between polls (default 20). */
  everyMs?: number;
  /** Added to the timeout's message (a child's output, a log). */
  log?: () => string;
  /** A probe that throws counts as "not yet" (a page still loading) instead of failing the wait. */
  retryErrors?: boolean;
}

/** Resolves with the probe's first truthy value; throws `timed out waiting for <what>` after `ms` (default 10 s). */
export async function until<T>(what: string, probe: () => T | Promise<T>, ms = 10_000, options: UntilOptions = {}): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const value = options.retryErrors ? await Promise.resolve().then(probe).catch(() => null) : await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${options.log ? `\n${options.log()}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 20));
  }
}
