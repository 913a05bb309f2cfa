/**
 * `lab export <run> --html [--out FILE] [--policy final|best]`: one self-contained HTML file in which the run's
 * trained policy plays its env in any browser, offline, with the Play page's controls: a live, shareable
 * alternative to a recorded video.
 *
 * The file holds everything and fetches nothing: the export bundle (viewer/export/: the lab's envs, the play
 * view, the frame renderers, Pixi and tfjs, built by vite into one script and one stylesheet), the tfjs wasm
 * binaries inline as data: URLs (so wasm works from file://; WebGPU is used where the browser offers it), and the
 * policies' files (model.json, weights.bin as base64, lab.json, obs_normalization.json) as a JSON block. Its
 * Content-Security-Policy allows only that: the script and stylesheet by their SHA-256, data: URLs for the wasm
 * binaries and images, blob: workers, nothing from any network. About 3 MB before the policy weights.
 *
 * The bundle is built when missing or older than its sources (`npm run build:viewer` builds it too), into a
 * temporary directory renamed into place, so concurrent exports never read half a bundle. The HTML is written
 * atomically. Refused with one line: a path that is not a run, a GAN or AlphaZero run, a run without a saved
 * policy, an env from a plug-in module (a page has only the lab's built-in envs).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { envIds } from '../envs/index.js';
import { readableDir, writeFileAtomic } from '../lab/fsutil.js';
import { oneLine, readRunConfig, RunDamage } from '../lab/run_files.js';
import { LAB_VERSION } from '../lab/version.js';
import { OBS_NORMALIZATION_FILE, parsePolicyLabJson, playEnvKwargs } from '../protocol/saved_policy.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXPORT_DIR = path.join(ROOT, 'viewer', 'export');
export const EXPORT_BUNDLE_DIR = path.join(EXPORT_DIR, 'dist');
/** What the bundle is built from: a newer file here means a rebuild. */
const BUNDLE_SOURCES = ['viewer/export', 'viewer/src', 'envs', 'protocol'].map((d) => path.join(ROOT, d));
/** Must match viewer/export/export_data.ts. */
const EXPORT_DATA_ID = 'lab-export';
const EXPORT_FORMAT = 'rl-gan-lab/html-export@1';

type PolicyDir = 'policy' | 'best_policy';

export interface ExportOptions {
  /** The HTML file to write (default: `<runId>.html` in the working directory). */
  out?: string;
  /** The policy the page starts with: the final one (default when there is one) or the best evaluated one. */
  policy?: 'final' | 'best';
  /** Progress lines (the bundle build); default: stderr. */
  log?: (line: string) => void;
}

class ExportError extends Error {
  override name = 'ExportError';
}

/** The newest modification time of any file under `dirs` (dist folders skipped). */
function newestSource(dirs: readonly string[]): number {
  let newest = 0;
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'dist' || entry.name.startsWith('dist.') || entry.name === 'node_modules') continue;
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) newest = Math.max(newest, fs.statSync(p).mtimeMs);
    }
  };
  for (const d of dirs) if (fs.existsSync(d)) walk(d);
  return newest;
}

/** The export bundle's script and stylesheet, built first when missing or older than its sources. */
export async function exportBundle(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<{ js: string; css: string }> {
  const jsFile = path.join(EXPORT_BUNDLE_DIR, 'export.js');
  const cssFile = path.join(EXPORT_BUNDLE_DIR, 'export.css');
  const builtAt = fs.existsSync(jsFile) && fs.existsSync(cssFile) ? Math.min(fs.statSync(jsFile).mtimeMs, fs.statSync(cssFile).mtimeMs) : 0;
  if (builtAt === 0 || newestSource(BUNDLE_SOURCES) > builtAt) {
    log(builtAt === 0 ? 'building the export bundle (once; npm run build:viewer also builds it)…' : 'the export bundle is older than its sources: rebuilding it…');
    const tmp = `${EXPORT_BUNDLE_DIR}.tmp-${process.pid}-${Date.now()}`;
    try {
      const { build } = await import('vite');
      await build({ configFile: path.join(EXPORT_DIR, 'vite.config.ts'), logLevel: 'warn', build: { outDir: tmp } });
      // Into place: the old bundle aside first (a concurrent export may have put one there meanwhile: fine).
      const old = `${EXPORT_BUNDLE_DIR}.old-${process.pid}-${Date.now()}`;
      if (fs.existsSync(EXPORT_BUNDLE_DIR)) fs.renameSync(EXPORT_BUNDLE_DIR, old);
      try {
        fs.renameSync(tmp, EXPORT_BUNDLE_DIR);
      } catch (e) {
        if (!fs.existsSync(jsFile)) throw e;
      }
      fs.rmSync(old, { recursive: true, force: true });
    } catch (e) {
      throw new ExportError(`the export bundle could not be built: ${oneLine(e instanceof Error ? e.message : String(e))}`);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return { js: fs.readFileSync(jsFile, 'utf8'), css: fs.readFileSync(cssFile, 'utf8') };
}

/** A policy directory's files for the page; null when the run has no such policy. */
function readPolicy(runDir: string, dir: PolicyDir): Record<string, unknown> | null {
  const modelDir = readableDir(path.join(runDir, dir));
  if (!fs.existsSync(path.join(modelDir, 'model.json'))) return null;
  const where = `${runDir}/${dir}`;
  const json = (file: string): unknown => {
    try {
      return JSON.parse(fs.readFileSync(path.join(modelDir, file), 'utf8')) as unknown;
    } catch (e) {
      throw new ExportError(`${where}/${file} cannot be read: ${oneLine(e instanceof Error ? e.message : String(e), 160)}`);
    }
  };
  const labJson = json('lab.json');
  try {
    parsePolicyLabJson(labJson, `${where}/lab.json`);
  } catch (e) {
    throw new ExportError((e as Error).message);
  }
  let weights: Buffer;
  try {
    weights = fs.readFileSync(path.join(modelDir, 'weights.bin'));
  } catch {
    throw new ExportError(`${where}/weights.bin cannot be read`);
  }
  const hasNorm = fs.existsSync(path.join(modelDir, OBS_NORMALIZATION_FILE));
  return { modelJson: json('model.json'), weightsBase64: weights.toString('base64'), labJson, obsNormalization: hasNorm ? json(OBS_NORMALIZATION_FILE) : null };
}

/** The run's config, refused unless it is an RL run whose env a page can make. */
function checkedRun(runDir: string): { envId: string; agent: string; preset: string | null; envKwargs: Record<string, unknown> } {
  if (!fs.existsSync(runDir)) throw new ExportError(`${runDir} does not exist`);
  if (!fs.existsSync(path.join(runDir, 'config.json'))) throw new ExportError(`${runDir} is not a run directory (it has no config.json)`);
  let checked;
  try {
    checked = readRunConfig(runDir);
  } catch (e) {
    if (e instanceof RunDamage) throw new ExportError(`${runDir} is damaged: ${e.message}`);
    throw e;
  }
  if (checked.kind === 'gan') throw new ExportError(`${runDir} is a GAN run: lab export --html plays RL policies (see a GAN's generator in the viewer's latent explorer)`);
  if (checked.kind !== 'rl') throw new ExportError(`${runDir} is an AlphaZero-lite run: lab export --html plays RL policies (play Go against it on the viewer's Go page)`);
  const c = checked.config;
  if (c.envId.includes(':') || !envIds().includes(c.envId)) {
    throw new ExportError(`${runDir}: its env '${c.envId}' comes from a plug-in module; an exported page runs only the lab's built-in envs (lab envs lists them)`);
  }
  const opponent = playEnvKwargs(c.envKwargs)['opponent'];
  if (typeof opponent === 'string' && opponent.startsWith('agent:')) {
    throw new ExportError(`${runDir}: its env plays against a saved agent (${opponent}), which an exported page cannot load`);
  }
  return { envId: c.envId, agent: c.agent, preset: c.preset ?? null, envKwargs: c.envKwargs };
}

/** `<script>` text made safe inside HTML: no `</script` can close the element early. */
function scriptText(text: string): string {
  return text.replace(/<\/(script)/gi, '<\\/$1');
}

function sha256(text: string): string {
  return `'sha256-${crypto.createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Writes the HTML file of `runDir`; returns its path and size. */
export async function exportHtml(runDirGiven: string, options: ExportOptions = {}): Promise<{ file: string; bytes: number; policies: PolicyDir[] }> {
  const runDir = path.resolve(runDirGiven);
  const run = checkedRun(runDir);
  const policies: Partial<Record<PolicyDir, Record<string, unknown>>> = {};
  for (const dir of ['policy', 'best_policy'] as const) {
    const p = readPolicy(runDir, dir);
    if (p) policies[dir] = p;
  }
  const available = (['policy', 'best_policy'] as const).filter((d) => policies[d]);
  if (available.length === 0) throw new ExportError(`${runDir} has no saved policy (policy/ or best_policy/): training writes them at evaluations and at its end; resume it (lab train --resume ${runDirGiven}) to get one`);
  const wanted: PolicyDir | null = options.policy === 'best' ? 'best_policy' : options.policy === 'final' ? 'policy' : null;
  if (wanted && !policies[wanted]) throw new ExportError(`${runDir} has no ${wanted === 'policy' ? 'final policy (policy/)' : 'best policy (best_policy/)'}; it has ${available.join(', ')}`);
  const initial = wanted ?? available[0]!;
  const step = parsePolicyLabJson(policies[initial]!.labJson, 'lab.json').policy.step;
  const runId = path.basename(runDir);
  const out = path.resolve(options.out ?? `${runId}.html`);
  if (fs.existsSync(out) && fs.statSync(out).isDirectory()) throw new ExportError(`--out ${out} is a directory; give a file name`);
  if (!fs.existsSync(path.dirname(out))) throw new ExportError(`--out ${out}: its directory does not exist`);

  const bundle = await exportBundle(options.log);
  const data = { format: EXPORT_FORMAT, labVersion: LAB_VERSION, exportedAt: new Date().toISOString(), initial, run: { runId, envId: run.envId, agent: run.agent, preset: run.preset, step }, policies };
  // JSON inside HTML: '<' escaped, so no '</script>' or '<!--' can appear in the block.
  const dataText = JSON.stringify(data).replace(/</g, '\\u003c');
  const js = scriptText(bundle.js);
  const css = bundle.css.replace(/<\/(style)/gi, '<\\/$1');
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(js)} 'wasm-unsafe-eval'`,
    `style-src ${sha256(css)}`,
    'img-src data: blob:',
    'connect-src data: blob:',
    'worker-src blob:',
    'font-src data:',
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  const title = `${run.envId} · ${run.agent}${run.preset ? ` (${run.preset})` : ''} — RL Lab`;
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="color-scheme" content="dark">
<meta name="generator" content="RL Lab ${escapeHtml(LAB_VERSION)} (lab export --html)">
<title>${escapeHtml(title)}</title>
<style>${css}</style>
<script type="application/json" id="${EXPORT_DATA_ID}">${dataText}</script>
</head>
<body>
<div id="app"></div>
<script type="module">${js}</script>
</body>
</html>
`;
  writeFileAtomic(out, html);
  return { file: out, bytes: Buffer.byteLength(html), policies: available };
}

export function registerExportCommand(program: Command): void {
  program
    .command('export')
    .description("write a self-contained HTML file in which a run's trained policy plays its env in any browser, offline")
    .argument('<run>', 'RL run directory')
    .option('--html', 'one HTML file holding the env, the policy weights, the renderer and tfjs (WebGPU, else wasm)')
    .option('--out <file>', 'the HTML file to write (default: <run id>.html here)')
    .addOption(new Option('--policy <which>', 'the policy the page starts with (the file holds both when the run has both)').choices(['final', 'best']))
    .action(async (run: string, opts: { html?: boolean; out?: string; policy?: 'final' | 'best' }) => {
      if (!opts.html) throw new Error('lab export needs a format: --html (one self-contained HTML file)');
      try {
        const result = await exportHtml(run, { ...(opts.out !== undefined ? { out: opts.out } : {}), ...(opts.policy ? { policy: opts.policy } : {}) });
        const mb = (result.bytes / 1e6).toFixed(1);
        process.stdout.write(`wrote ${result.file} (${mb} MB; ${result.policies.map((p) => (p === 'policy' ? 'final' : 'best')).join(' and ')} policy): open it in any browser, offline\n`);
      } catch (e) {
        if (e instanceof ExportError) throw new Error(e.message);
        throw e;
      }
    });
}
