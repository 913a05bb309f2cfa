/**
 * server/thread_client.ts, the request/reply worker-thread client behind CompareWorker and ExperimentsWorker:
 * replies matched to their requests, failed replies as the caller's error classes, the bounded queue refusing
 * with Busy, every waiting request failing when the thread exits, and a fresh thread after that and after close
 * (even one asked for while the old thread is still closing).
 */
import { describe, expect, it } from 'vitest';
import { Busy, ThreadClient } from '../server/thread_client.js';
import { NotFound } from '../server/replays_api.js';

type Request = { op: 'double' | 'fail' | 'exit'; value: number; kind?: string };

function client(maxQueued = 4, delayMs = 20): ThreadClient<Request, number, 'not-found' | 'error'> {
  return new ThreadClient({
    entry: new URL('./fixtures/thread_client_echo.ts', import.meta.url),
    workerData: { delayMs },
    maxQueued,
    busyMessage: (waiting) => `${waiting} echoes are already waiting`,
    name: 'the echo worker',
    errorFor: (kind, message) => (kind === 'not-found' ? new NotFound(message) : new Error(message)),
  });
}

describe('ThreadClient', () => {
  it('answers each request with its own reply, and maps failed replies to the caller’s errors', async () => {
    const c = client();
    try {
      expect(await Promise.all([1, 2, 3].map((value) => c.request({ op: 'double', value })))).toEqual([2, 4, 6]);
      const missing = c.request({ op: 'fail', value: 7, kind: 'not-found' });
      await expect(missing).rejects.toThrow(NotFound);
      await expect(missing).rejects.toThrow('failed on 7');
      const other = c.request({ op: 'fail', value: 8, kind: 'error' });
      await expect(other).rejects.toThrow('failed on 8');
      await expect(other).rejects.not.toThrow(NotFound);
    } finally {
      await c.close();
    }
  });

  it('refuses with Busy beyond its queue, and takes requests again once it drains', async () => {
    const c = client(2, 200);
    try {
      const first = [c.request({ op: 'double', value: 1 }), c.request({ op: 'double', value: 2 })];
      const refused = c.request({ op: 'double', value: 3 });
      await expect(refused).rejects.toThrow(Busy);
      await expect(refused).rejects.toThrow('2 echoes are already waiting');
      expect(await Promise.all(first)).toEqual([2, 4]);
      expect(await c.request({ op: 'double', value: 5 })).toBe(10);
    } finally {
      await c.close();
    }
  });

  it('fails every waiting request when the thread exits, then starts a new one', async () => {
    const c = client(4, 100);
    try {
      const waiting = c.request({ op: 'double', value: 1 });
      const exiting = c.request({ op: 'exit', value: 0 });
      // The first is answered before the exit; the exit itself never is.
      expect(await waiting).toBe(2);
      await expect(exiting).rejects.toThrow('the echo worker exited (code 3)');
      expect(await c.request({ op: 'double', value: 4 })).toBe(8);
      await c.close();
      expect(await c.request({ op: 'double', value: 6 })).toBe(12);
      // A request made while the old thread is still closing goes to a new thread, untouched by the old one's exit.
      const closing = c.close();
      const next = c.request({ op: 'double', value: 7 });
      await closing;
      expect(await next).toBe(14);
    } finally {
      await c.close();
    }
  });
});
