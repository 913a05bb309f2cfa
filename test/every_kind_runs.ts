/**
 * A runs directory with every kind of run, for test/every_kind.test.ts and test/e2e_every_kind.test.ts:
 *
 *   gan-a, gan-b    the GAN fixture (test/fixtures/runs/gan-tiny) under two seeds, gan-b's losses scaled by 1.5
 *   az-a, az-b      tiny AlphaZero-lite runs trained here (2 iterations, an evaluation after each: random, uct-8)
 *   az-noeval       the AlphaZero-lite fixture (evalEvery 0: losses, no evaluation)
 *   rl-a            the RL fixture (DQN on CartPole-v1)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainAlphaZero } from '../agents/go/alphazero.js';

const FIXTURES = fileURLToPath(new URL('./fixtures/runs/', import.meta.url));

/** Tiny AlphaZero-lite settings (as test/go_alphazero.test.ts) with a quick evaluation after every iteration. */
export const TINY_AZ = { size: 5, filters: [8], hidden: [16], simulations: 8, gamesPerIteration: 2, trainSteps: 3, batchSize: 16, bufferSize: 500, evalEvery: 1, evalGames: 2, evalSimulations: 4, evalMctsSimulations: 8 };

function copyFixture(runsDir: string, fixture: string, id: string, edit: (config: Record<string, unknown>) => void = () => {}, editLine: (record: Record<string, unknown>) => void = () => {}): void {
  const dir = path.join(runsDir, id);
  fs.cpSync(path.join(FIXTURES, fixture), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}checkpoints`) });
  const file = path.join(dir, 'config.json');
  const config = { ...(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>), runId: id };
  edit(config);
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  const metrics = path.join(dir, 'metrics.jsonl');
  const lines = fs.readFileSync(metrics, 'utf8').split('\n').filter((l) => l !== '');
  fs.writeFileSync(
    metrics,
    lines
      .map((l) => {
        const r = JSON.parse(l) as Record<string, unknown>;
        editLine(r);
        return JSON.stringify(r);
      })
      .join('\n') + '\n',
  );
}

export async function makeEveryKindRuns(): Promise<string> {
  const runsDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-every-kind-'));
  copyFixture(runsDir, 'gan-tiny', 'gan-a');
  copyFixture(
    runsDir,
    'gan-tiny',
    'gan-b',
    (c) => (c.seed = 4),
    (r) => {
      if (r.type !== 'update') return;
      const stats = r.stats as Record<string, number>;
      stats.dLoss = stats.dLoss! * 1.5;
      stats.gLoss = stats.gLoss! * 1.5;
    },
  );
  copyFixture(runsDir, 'go-alphazero-tiny', 'az-noeval');
  copyFixture(runsDir, 'rl-dqn-cartpole', 'rl-a');
  for (const [id, seed] of [
    ['az-a', 1],
    ['az-b', 2],
  ] as const) {
    await trainAlphaZero({ hyperparameters: TINY_AZ, iterations: 2, seed, out: runsDir, runId: id, backend: 'cpu' });
  }
  return runsDir;
}
