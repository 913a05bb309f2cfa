/** `lab envs` and `lab agents`: what can be trained. */
import { Command } from 'commander';
import { envIds, make, registration, spec } from '../envs/index.js';
import { agentEntry, agentNames } from '../agents/registry.js';
import { importOption, loadImports, type ImportCliOptions } from './args.js';

export function registerListCommands(program: Command): void {
  program
    .command('envs')
    .description('list the registered environments')
    .option('--json', 'print JSON')
    .addOption(importOption())
    .action(async (opts: { json?: boolean } & ImportCliOptions) => {
      await loadImports(opts);
      const rows = envIds().map((id) => {
        const env = make(id);
        const s = spec(id);
        return {
          id,
          observationSpace: String(env.observationSpace),
          actionSpace: String(env.actionSpace),
          maxEpisodeSteps: s.maxEpisodeSteps ?? null,
          rewardThreshold: s.rewardThreshold ?? null,
          kwargs: s.kwargs,
          vectorized: registration(id).vectorEntryPoint ? 'batched' : 'sync',
          description: registration(id).description ?? '',
        };
      });
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      for (const r of rows) {
        console.log(`${r.id.padEnd(24)} ${r.description}`);
        console.log(
          `${''.padEnd(24)} obs ${r.observationSpace}, actions ${r.actionSpace}, ` +
            `time limit ${r.maxEpisodeSteps ?? 'none'}, reward threshold ${r.rewardThreshold ?? 'none'}, vector: ${r.vectorized}`,
        );
      }
    });

  program
    .command('agents')
    .description('list agents and their presets')
    .addOption(importOption())
    .action(async (opts: ImportCliOptions) => {
      await loadImports(opts);
      for (const name of agentNames()) {
        const entry = agentEntry(name);
        console.log(`${name}: ${entry.description}`);
        for (const [presetName, preset] of Object.entries(entry.presets)) {
          console.log(`  --preset ${presetName.padEnd(13)} ${preset.description}${preset.envs.length ? ` (default for ${preset.envs.join(', ')})` : ''}`);
        }
      }
    });
}
