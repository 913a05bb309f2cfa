/**
 * The README cannot drift from the code:
 * - every `npx lab …` / `node bin/lab.mjs …` command in a code block of README.md and docs/*.md names a real
 *   subcommand, and every option it uses is listed in that subcommand's `--help` (a renamed option fails here);
 * - the README's commands (the five-minute tour) run for real, in order, in a temporary directory, with their
 *   budgets cut so that the whole tour takes seconds (see `shrink`); servers, GTP engines and GNU Go are not run;
 * - every `npm run <script>` (and `npm start`, `npm test`) names a script of package.json;
 * - every relative link and image in README.md and docs/*.md points to an existing file, and its #anchor, if
 *   any, to a heading of that page.
 */
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const LAB = path.join(ROOT, 'bin', 'lab.mjs');
const README = path.join(ROOT, 'README.md');
const DOCS = path.join(ROOT, 'docs');
const PAGES = [README, ...fs.readdirSync(DOCS).filter((f) => f.endsWith('.md')).map((f) => path.join(DOCS, f))];

interface Command {
  file: string;
  line: number;
  text: string;
}

/** Commands (lab and npm) in the fenced code blocks of a Markdown file; `\` continuations joined, comments cut. */
function commandsIn(file: string): Command[] {
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out: Command[] = [];
  let inBlock = false;
  for (let i = 0; i < lines.length; i++) {
    if (/^\s*```/.test(lines[i]!)) {
      inBlock = !inBlock;
      continue;
    }
    if (!inBlock) continue;
    const start = i;
    let text = lines[i]!.trim();
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + lines[++i]!.trim();
    text = text.replace(/^\$\s+/, '').replace(/\s+#\s.*$/, '').trim();
    if (/^(npx lab|node bin\/lab\.mjs|npm (run|start|test|install))\b/.test(text)) out.push({ file, line: start + 1, text });
  }
  return out;
}

/** Shell-like words of a command, quotes removed, up to a redirection or pipe. */
function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/'([^']*)'|"([^"]*)"|(\S+)/g)) {
    const w = m[1] ?? m[2] ?? m[3]!;
    if (m[3] !== undefined && /^(>|>>|\||&&|;|2>)/.test(w)) break;
    out.push(w);
  }
  return out;
}

/** The arguments after `npx lab` / `node bin/lab.mjs`, or null for another command. */
function labArgs(text: string): string[] | null {
  const w = words(text);
  if (w[0] === 'npx' && w[1] === 'lab') return w.slice(2);
  if (w[0] === 'node' && w[1] === 'bin/lab.mjs') return w.slice(2);
  return null;
}

function run(args: string[], cwd: string, timeoutMs = 60_000): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [LAB, ...args], { cwd, timeout: timeoutMs, maxBuffer: 64 << 20, env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, out: `${stdout}\n${stderr}` });
    });
  });
}

interface HelpEntry {
  help: string;
  subcommands: string[];
  /** The subcommand that runs when none is named (`lab gan …` is `lab gan train …`). */
  defaultSubcommand: string | null;
}

/**
 * The help text of every `lab` command and subcommand, from one process: the `lab` program's own commander
 * tree (`buildCli()`, what bin/lab.mjs runs), each command's `helpInformation()`, which is what
 * `lab <command…> --help` prints (a test below checks that for some commands). One process instead of one
 * `lab … --help` per command keeps this test fast.
 */
let helpTree: Promise<Record<string, HelpEntry>> | undefined;
function helps(): Promise<Record<string, HelpEntry>> {
  helpTree ??= new Promise((resolve, reject) => {
    const script = `
      const { buildCli } = await import('./cli/main.ts');
      const out = {};
      const walk = (cmd, p) => {
        out[p.join(' ')] = { help: cmd.helpInformation(), subcommands: cmd.commands.map((c) => c.name()), defaultSubcommand: cmd._defaultCommandName ?? null };
        for (const c of cmd.commands) walk(c, [...p, c.name()]);
      };
      walk(buildCli(), []);
      process.stdout.write(JSON.stringify(out));`;
    execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`could not list the lab commands' help: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as Record<string, HelpEntry>);
    });
  });
  return helpTree;
}

/** Problems with one lab command: an unknown subcommand, or options its help does not list. */
async function checkAgainstHelp(args: string[]): Promise<string[]> {
  const tree = await helps();
  const cmdPath: string[] = [];
  let i = 0;
  for (;;) {
    const entry = tree[cmdPath.join(' ')]!;
    if (entry.subcommands.length === 0) break;
    const next = args[i];
    if (next !== undefined && entry.subcommands.includes(next)) {
      cmdPath.push(next);
      i++;
    } else if (entry.defaultSubcommand) {
      cmdPath.push(entry.defaultSubcommand);
    } else if (next !== undefined && !next.startsWith('-')) {
      return [`'lab ${[...cmdPath, next].join(' ')}': no such command (lab ${cmdPath.join(' ')} has ${entry.subcommands.join(', ')})`];
    } else break;
  }
  const text = tree[cmdPath.join(' ')]!.help;
  const problems: string[] = [];
  for (const a of args.slice(i)) {
    if (!a.startsWith('--')) continue;
    const opt = a.split('=')[0]!;
    const listed = new RegExp(`(^|[\\s,])${opt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=[\\s=<\\[,]|$)`, 'm').test(text);
    if (!listed) problems.push(`'lab ${cmdPath.join(' ')}' has no option ${opt}`);
  }
  return problems;
}

/** Budgets cut for the test: the option's value becomes at most this. */
const CAPS: Record<string, number> = { '--steps': 300, '--episodes': 3, '--games': 2, '--sims': 30, '--fps': 0 };

/**
 * A README command with its budget cut for the test: a tour command as written would train for minutes.
 * Returns null for a command the test does not run (and why it is skipped is in the condition).
 */
function shrink(args: string[]): string[] | null {
  const [cmd, sub] = args;
  if (cmd === 'serve' || cmd === 'gtp' || cmd === 'watch' || cmd === 'worker') return null; // a server, a GTP engine on stdin, a policy playing or a worker serving until stopped: they do not end
  if (args.includes('--queue')) return null; // needs a Redis (test/sweep_queue.test.ts runs sweeps through one)
  if (args.some((a) => a.startsWith('gnugo'))) return null; // needs GNU Go, and plays for minutes
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--live') {
      if (args[i + 1]?.startsWith('http')) i++; // no server here (training goes on without one)
    } else if (a in CAPS) {
      out.push(a, String(Math.min(Number(args[++i]), CAPS[a]!)));
    } else if (a === '--minutes') {
      i++;
      out.push('--iterations', '1', '--set', 'simulations=8', '--set', 'gamesPerIteration=2', '--set', 'trainSteps=2');
    } else out.push(a);
  }
  if (cmd === 'gan' && (sub === 'train' || sub?.startsWith('--'))) {
    if (!out.includes('--iterations')) out.push('--iterations', '2');
    out.push('--data', 'never');
  }
  if (cmd === 'gan' && sub === 'eval') out.push('--n', '200', '--real', '200', '--data', 'never');
  return out;
}

/** The shipped experiment specs, copied into the tour's directory with their run budgets cut (steps ≤ 300, iterations ≤ 2). */
function copySpecsCut(dir: string): void {
  const to = path.join(dir, 'experiments');
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(path.join(ROOT, 'experiments'))) {
    const text = fs.readFileSync(path.join(ROOT, 'experiments', f), 'utf8');
    fs.writeFileSync(path.join(to, f), text.replace(/\bsteps: \d+/g, 'steps: 300').replace(/\biterations: \d+/g, 'iterations: 2'));
  }
}

const readmeCommands = commandsIn(README);
const allCommands = PAGES.flatMap(commandsIn);
const where = (c: Command) => `${path.relative(ROOT, c.file)}:${c.line}: ${c.text}`;

describe('README.md and docs/', () => {
  it('the README shows the tour (lab commands in code blocks) and stays short', () => {
    const lab = readmeCommands.filter((c) => labArgs(c.text));
    expect(lab.length).toBeGreaterThanOrEqual(10);
    for (const sub of ['train', 'eval', 'compare', 'replay', 'match', 'go', 'gan']) {
      expect(lab.some((c) => labArgs(c.text)![0] === sub), `the tour shows lab ${sub}`).toBe(true);
    }
    expect(fs.readFileSync(README, 'utf8').split('\n').length).toBeLessThanOrEqual(201);
  });

  // The help checks run beside the tour.
  it.concurrent('every lab command in README.md and docs/*.md uses a real subcommand and options its --help lists', async ({ expect }) => {
    const problems: string[] = [];
    for (const c of allCommands) {
      const args = labArgs(c.text);
      if (!args) continue;
      for (const p of await checkAgainstHelp(args)) problems.push(`${where(c)}\n    ${p}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  }, 120_000);

  it.concurrent('lab <command…> --help prints the help the checks above read', async ({ expect }) => {
    const tree = await helps();
    for (const cmdPath of [['train'], ['gan', 'train']]) {
      const r = await run([...cmdPath, '--help'], ROOT);
      expect(r.code).toBe(0);
      expect(r.out.trim()).toBe(tree[cmdPath.join(' ')]!.help.trim());
    }
  }, 120_000);

  it('every npm script named in README.md and docs/*.md exists in package.json', () => {
    const scripts = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
    const named = new Set<string>();
    for (const c of allCommands) {
      const w = words(c.text);
      if (w[0] !== 'npm') continue;
      if (w[1] === 'run') named.add(w[2]!);
      else if (w[1] === 'start' || w[1] === 'test') named.add(w[1]);
    }
    // Inline code in the prose too (`npm run bench:envs`); `bench:*` and `bench:…` stand for all of them (skipped).
    for (const file of PAGES) {
      for (const m of fs.readFileSync(file, 'utf8').matchAll(/`npm run ([\w:.-]*\w)(?![\w:.-])[^`]*`/g)) named.add(m[1]!);
    }
    expect(named.size).toBeGreaterThan(3);
    const missing = [...named].filter((n) => !(n in scripts));
    expect(missing, `npm scripts named in the docs but not in package.json: ${missing.join(', ')}`).toEqual([]);
  });

  it.concurrent('the README commands run (budgets cut) in a fresh directory, in order', async ({ expect }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-readme-'));
    let ran = 0;
    try {
      for (const c of readmeCommands) {
        const args = labArgs(c.text);
        if (!args) continue;
        const cut = shrink(args);
        if (!cut) continue;
        if (args[0] === 'sweep') copySpecsCut(dir);
        // The examples as a user's checkout has them (a link: they import the lab relative to their real place).
        if (cut.some((a) => a.includes('examples/')) && !fs.existsSync(path.join(dir, 'examples'))) fs.symlinkSync(path.join(ROOT, 'examples'), path.join(dir, 'examples'));
        const r = await run(cut, dir, 90_000);
        expect(r.code, `${where(c)}\n  ran as: lab ${cut.join(' ')}\n${r.out.slice(-3000)}`).toBe(0);
        const runId = args[args.indexOf('--run-id') + 1];
        if (args.includes('--run-id')) expect(fs.existsSync(path.join(dir, 'runs', runId!, 'config.json')), `${where(c)}: runs/${runId}/config.json`).toBe(true);
        if (args[0] === 'sweep' && args.includes('--id')) {
          const id = args[args.indexOf('--id') + 1]!;
          expect(fs.readFileSync(path.join(dir, 'runs', 'sweeps', id, 'trials.jsonl'), 'utf8').trim().split('\n').length, `${where(c)}: runs/sweeps/${id}/trials.jsonl`).toBeGreaterThan(0);
        }
        const outDir = args[args.indexOf('--out') + 1];
        if (args[0] === 'compare' && args.includes('--out')) expect(fs.existsSync(path.join(dir, outDir!, 'compare.png')), `${where(c)}: ${outDir}/compare.png`).toBe(true);
        ran++;
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(ran).toBeGreaterThanOrEqual(10);
  }, 240_000);

  it('every relative link and image in README.md and docs/*.md resolves, anchors included', () => {
    const problems: string[] = [];
    let checked = 0;
    for (const file of PAGES) {
      const text = prose(fs.readFileSync(file, 'utf8'));
      for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        const target = m[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [rel, anchor] = target.split('#') as [string, string | undefined];
        const resolved = rel === '' ? file : path.resolve(path.dirname(file), decodeURIComponent(rel));
        checked++;
        if (!fs.existsSync(resolved)) {
          problems.push(`${path.relative(ROOT, file)}: ${target}: no such file`);
          continue;
        }
        if (anchor && resolved.endsWith('.md') && !anchors(resolved).has(anchor)) {
          problems.push(`${path.relative(ROOT, file)}: ${target}: no heading '#${anchor}' in ${path.relative(ROOT, resolved)}`);
        }
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(problems, problems.join('\n')).toEqual([]);
  });
});

/** Markdown text without fenced code blocks and inline code spans (links there are not links). */
function prose(md: string): string {
  return md.replace(/^\s*```[\s\S]*?^\s*```/gm, '').replace(/`[^`\n]*`/g, '``');
}

/** GitHub's heading anchors of a Markdown file: lower case, punctuation dropped, spaces to '-', repeats numbered. */
function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const md = fs.readFileSync(file, 'utf8').replace(/^\s*```[\s\S]*?^\s*```/gm, '');
  for (const m of md.matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = m[1]!.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}
