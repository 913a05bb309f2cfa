/** `lab backends`: which compute backends can run on this machine, which one `auto` takes, and why. */
import { Command } from 'commander';
import { surveyBackends } from '../lab/compute.js';

export function registerBackendsCommand(program: Command): void {
  program
    .command('backends')
    .description('which compute backends run here (node-gpu, webgpu, node, wasm, cpu), which one --backend auto takes, and why')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      const { rows, auto } = await surveyBackends();
      if (opts.json) {
        console.log(JSON.stringify({ backends: rows, auto: { backend: auto.backend, reason: auto.reason, details: auto.details } }, null, 2));
        return;
      }
      for (const r of rows) console.log(`${r.autoTakes ? '*' : ' '} ${r.backend.padEnd(9)} ${r.usable ? 'yes' : 'no '}  ${r.note}`);
      console.log(`\n--backend auto takes ${auto.backend} (*). Force one with --backend <name>; docs/gpu.md explains the choices.`);
    });
}
