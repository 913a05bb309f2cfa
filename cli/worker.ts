/**
 * `lab worker --queue redis://host:port`: serves the runs of `lab sweep … --queue` from this machine. Each run
 * trains in a local worker process (sweep/local_pool.ts) in its own directory under --work-dir; its
 * checkpoints and its finished run directory travel back through Redis (sweep/queue.ts). Ctrl-C puts the runs
 * in progress back on the queue with a fresh checkpoint, for another worker to resume.
 */
import os from 'node:os';
import type { Command } from 'commander';
import path from 'node:path';
import { importOption, integer, loadImports } from './args.js';
import { onStopSignal } from './signals.js';
import { LocalPool } from '../sweep/local_pool.js';
import { parseRedisUrl, QueueWorker } from '../sweep/queue.js';

interface WorkerCliOptions {
  queue: string;
  concurrency?: number;
  workDir: string;
  import?: string[];
}

export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('take the runs of a sweep (lab sweep --queue) from Redis and train them here; no shared filesystem needed')
    .requiredOption('--queue <url>', 'the Redis the sweep uses: redis://host:port[/db]')
    .option('--concurrency <n>', `runs at once, one process each (default: the number of cores, ${os.availableParallelism()} here)`, integer(1))
    .option('--work-dir <dir>', 'where runs train on this machine (each in <dir>/<experiment>/runs/<run>; removed once shipped)', 'lab-worker')
    .addOption(importOption())
    .action(async (opts: WorkerCliOptions) => {
      parseRedisUrl(opts.queue);
      // Imported here first, so that a broken module is one line now rather than a failure in every job.
      await loadImports(opts);
      const imports = (opts.import ?? []).map((m) => path.resolve(m));
      const concurrency = opts.concurrency ?? os.availableParallelism();
      const say = (line: string) => console.log(`worker: ${line}`);
      const pool = new LocalPool({ workers: concurrency, imports });
      const stop = onStopSignal(say, 'putting the runs in progress back on the queue with a checkpoint');
      let poll: NodeJS.Timeout | undefined;
      try {
        const worker = await QueueWorker.start({ url: opts.queue, concurrency, workDir: opts.workDir, pool, onLine: say, shouldStop: () => stop.requested });
        const signalled = new Promise<void>((resolve) => {
          poll = setInterval(() => stop.requested && resolve(), 100);
        });
        // Runs until a signal stops it, or until it stops by itself (a refusal: `done` rejects with the reason).
        await Promise.race([worker.done, signalled]);
        await worker.stop();
        say('stopped');
      } finally {
        clearInterval(poll);
        stop.dispose();
        await pool.close();
      }
    });
}
