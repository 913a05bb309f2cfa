/** `lab check-env <id>`: Gymnasium's env checker (envs/check_env.ts) on a registered env or a plug-in's, as a report. */
import type { Command } from 'commander';
import { checkEnvId, formatEnvCheckReport } from '../envs/check_env.js';
import { resolveEnvId } from '../envs/index.js';
import { importOption, integer, loadPlugins, type ImportCliOptions } from './args.js';

interface CheckEnvCliOptions extends ImportCliOptions {
  steps: number;
  seed: number;
  json?: boolean;
}

export function registerCheckEnvCommand(program: Command): void {
  program
    .command('check-env <id>')
    .description("check an environment as Gymnasium's env checker does (spaces, reset/step signatures and types, observations in the space, seeding determinism, render modes, spec); exits 1 when a check fails")
    .addOption(importOption())
    .option('--steps <n>', 'random steps to play', integer(1), 200)
    .option('--seed <n>', 'seed of the determinism checks', integer(0), 123)
    .option('--json', 'print the report as JSON')
    .action(async (id: string, opts: CheckEnvCliOptions) => {
      await loadPlugins(opts);
      // A plain id, or module:EnvId (the module imported first).
      const envId = await resolveEnvId(id);
      const report = checkEnvId(envId, { steps: opts.steps, seed: opts.seed });
      console.log(opts.json ? JSON.stringify(report, null, 2) : formatEnvCheckReport(report));
      const failed = report.checks.filter((c) => !c.ok);
      if (failed.length) throw new Error(`${envId} fails ${failed.length} of ${report.checks.length} checks: ${failed.map((c) => c.name).join('; ')}`);
    });
}
