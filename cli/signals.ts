/**
 * The stop-and-checkpoint signal handling of every command that trains (`lab train`, `lab gan train`, `lab go
 * train`): the first Ctrl-C (SIGINT) or SIGTERM asks the run to stop, which it does at the next safe point with a
 * checkpoint and its final outputs; a second one exits at once (status 130 after SIGINT, 143 after SIGTERM),
 * leaving the newest checkpoint to resume from.
 */

export interface StopSignal {
  /** Whether a stop was asked for (by a signal, or by `request`). */
  readonly requested: boolean;
  /** Asks the run to stop (a live viewer's Stop button); says `message` the first time only. */
  request(message?: string): void;
  /** Removes the signal handlers (call when the run is over). */
  dispose(): void;
}

const EXIT_CODES: Record<'SIGINT' | 'SIGTERM', number> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Installs the handlers. `say` prints a line (the trainers' progress sinks keep their bar intact); `what` says
 * what a stop does ("writing a checkpoint").
 */
export function onStopSignal(say: (message: string) => void = (m) => console.log(m), what = 'writing a checkpoint'): StopSignal {
  let requested = false;
  const handlers = (Object.keys(EXIT_CODES) as (keyof typeof EXIT_CODES)[]).map((signal) => {
    const handler = (): void => {
      if (requested) process.exit(EXIT_CODES[signal]);
      requested = true;
      say(`stopping: ${what} (${signal === 'SIGINT' ? 'Ctrl-C' : 'SIGTERM'} again to quit at once)`);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return {
    get requested() {
      return requested;
    },
    request(message?: string) {
      if (!requested && message) say(message);
      requested = true;
    },
    dispose() {
      for (const [signal, handler] of handlers) process.off(signal, handler);
    },
  };
}
