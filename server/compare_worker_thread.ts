/** The comparison worker's thread (see compare_worker.ts): a ReplayStore over the runs directory. */
import { parentPort, workerData } from 'node:worker_threads';
import { DiskRuns } from './disk_runs.js';
import { BadRequest, NotFound, ReplayStore } from './replays_api.js';
import type { CompareReply, CompareRequest } from './compare_worker.js';

const { runsDir } = workerData as { runsDir: string };
const replays = new ReplayStore(new DiskRuns(runsDir));

parentPort!.on('message', (m: CompareRequest) => {
  let reply: CompareReply;
  try {
    reply = { id: m.id, ok: true, value: replays.compare(m.runIds, m.options) };
  } catch (e) {
    const error = e instanceof Error ? e.message : String(e);
    reply = { id: m.id, ok: false, kind: e instanceof NotFound ? 'not-found' : e instanceof BadRequest ? 'bad-request' : 'error', error };
  }
  parentPort!.postMessage(reply);
});
