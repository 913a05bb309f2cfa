/**
 * `lab replay verify|show|frames`: check replay logs by re-simulation, look at one, regenerate its frames.
 * Registered on the `lab` program by `registerReplayCommands(program)`.
 */
import { Command } from 'commander';
import path from 'node:path';
import { importOption, loadPlugins, nonNegativeNumber, type ImportCliOptions } from './args.js';
import { make } from '../envs/index.js';
import { findReplays, readReplay, replayFrames, verifyReplay, type ReplayLog, type VerifyResult } from '../lab/replay.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (v: number) => (Number.isInteger(v) ? String(v) : String(Number(v.toFixed(4))));


/** One line per file: `ok  <file>  <steps> steps, return R`, `MISMATCH <file>: …` or `ERROR <reading error>`. */
export function formatVerifyResult(r: VerifyResult): string {
  if (r.ok) return `ok  ${r.file}  ${r.steps} steps, return ${fmt(r.return!)}`;
  if (r.mismatch) return `MISMATCH ${r.file}: ${r.mismatch.message}`;
  return `ERROR ${r.error}`;
}

function describeLog(log: ReplayLog): string[] {
  const h = log.header;
  const f = log.footer;
  const kwargs = Object.keys(h.envKwargs).length ? ` ${JSON.stringify(h.envKwargs)}` : '';
  const start = h.envState !== null ? `start state from the log${h.startStep !== null ? ` (global step ${h.startStep})` : ''}` : `reset with seed ${h.seed}`;
  const who = h.agent ? `agent ${h.agent}${h.preset ? ` (preset ${h.preset})` : ''}` : 'no agent recorded';
  return [
    `${log.file}`,
    `  ${h.envId}${kwargs}, time limit ${h.maxEpisodeSteps ?? 'none'}; ${h.mode === 'eval' ? 'evaluation' : 'training'} episode ${h.episode}, ${start}`,
    `  run ${h.runId ?? '-'}, ${who}, policy of step ${h.checkpointStep ?? '-'}; lab ${h.labVersion}, recorded ${h.createdAt}`,
    `  stored per step: action, reward, end flags${h.frames ? ', frame' : ''}${h.obs ? ', observation' : ''}`,
    `  return ${fmt(f.return)}, length ${f.length}, ${f.terminated ? 'terminated' : f.truncated ? 'truncated' : 'cut (neither terminated nor truncated)'}`,
  ];
}

export function registerReplayCommands(program: Command): void {
  const replay = program.command('replay').description('replay logs (<run>/replays/*.jsonl.gz): verify by re-simulation, show, regenerate frames');

  replay
    .command('verify')
    .description('re-simulate replay logs and check every reward, end flag and the final state: prints each log that fails and a summary (--verbose: every log); exit code 1 if any fails')
    .argument('<paths...>', 'replay logs or directories (searched recursively for *.jsonl.gz), e.g. a run directory or runs/')
    .option('--verbose', 'a line for every log, the ones that pass too')
    .option('--json', 'print one JSON document with a result per file')
    .addOption(importOption())
    .action(async (paths: string[], opts: ImportCliOptions & { json?: boolean; verbose?: boolean }) => {
      const files = findReplays(paths);
      if (files.length === 0) throw new Error(`no replay logs (*.jsonl.gz) found in ${paths.join(', ')}`);
      // Logs of plug-in envs re-simulate with their run's plug-ins (each run's once).
      await loadPlugins(opts, [...new Set(files.map((f) => path.dirname(f)))]);
      const results: VerifyResult[] = [];
      // One log asked for: its line is the answer; more: the failures (all with --verbose), then a summary.
      const every = opts.verbose === true || files.length === 1;
      for (const file of files) {
        const r = verifyReplay(file);
        results.push(r);
        if (!opts.json && (every || !r.ok)) console.log(formatVerifyResult(r));
      }
      const failed = results.filter((r) => !r.ok).length;
      if (opts.json) console.log(JSON.stringify({ files: results.length, ok: results.length - failed, failed, results }, null, 2));
      else if (results.length > 1) console.log(`${results.length} replay logs verified, ${failed} failed`);
      if (failed) throw new Error(`${failed} of ${results.length} replay log${results.length === 1 ? '' : 's'} failed verification`);
    });

  replay
    .command('show')
    .description("print a replay log's header and footer, then play the episode in the terminal (envs with an ansi mode)")
    .argument('<file>', 'a replay log')
    .option('--fps <n>', "frames per second (default: the env's; 0: no delay)", nonNegativeNumber)
    .option('--no-render', 'only the header and footer')
    .addOption(importOption())
    .action(async (file: string, opts: ImportCliOptions & { fps?: number; render: boolean }) => {
      await loadPlugins(opts, [path.dirname(file)]);
      const log = readReplay(file);
      for (const line of describeLog(log)) console.log(line);
      const verdict = verifyReplay(file);
      console.log(`  re-simulation: ${verdict.ok ? 'reproduces the episode exactly' : (verdict.mismatch?.message ?? verdict.error)}`);
      if (!opts.render) return;
      const probe = make(log.header.envId, { ...log.header.envKwargs, maxEpisodeSteps: log.header.maxEpisodeSteps });
      const { renderModes, renderFps } = probe.metadata;
      probe.close();
      if (!renderModes.includes('ansi')) {
        console.log(`  (${log.header.envId} has no ansi render mode; see \`lab replay frames ${file}\` for its JSON frames)`);
        return;
      }
      if (!verdict.ok) return;
      const frames = replayFrames(log, 'ansi') as string[];
      const fps = opts.fps ?? renderFps;
      const animate = process.stdout.isTTY === true;
      const delay = animate && fps > 0 ? 1000 / fps : 0;
      let total = 0;
      if (animate) process.stdout.write('\x1b[?25l');
      try {
        for (let k = 0; k < frames.length; k++) {
          const step = k === 0 ? null : log.steps[k - 1]!;
          if (step) total += step.r;
          const title = `${log.header.envId} | ${log.header.mode} episode ${log.header.episode} | step ${k}/${log.steps.length}` + (step ? ` | action ${JSON.stringify(step.a)} | reward ${fmt(step.r)} | return ${fmt(total)}` : ' | start');
          process.stdout.write((animate ? '\x1b[H\x1b[2J' : '') + `${title}\n${frames[k]}\n${animate ? '' : '\n'}`);
          if (delay) await sleep(delay);
        }
      } finally {
        if (animate) process.stdout.write('\x1b[?25h');
      }
    });

  replay
    .command('frames')
    .description('the render() frames of a logged episode, regenerated by re-simulation, as JSON lines (step 0 = after the reset)')
    .argument('<file>', 'a replay log')
    .addOption(importOption())
    .action(async (file: string, opts: ImportCliOptions) => {
      await loadPlugins(opts, [path.dirname(file)]);
      const frames = replayFrames(file, 'json');
      const out: string[] = [];
      frames.forEach((frame, step) => out.push(JSON.stringify({ type: 'frame', step, frame })));
      process.stdout.write(out.join('\n') + '\n');
    });
}
