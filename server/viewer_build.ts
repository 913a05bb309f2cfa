/**
 * `lab serve` builds the viewer when viewer/dist is missing or older than its sources, so `npm start` works
 * on a fresh clone without a separate build step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOURCES = ['viewer/src', 'viewer/index.html', 'viewer/vite.config.ts', 'protocol', 'envs/frames.ts'];

function newestMtime(p: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

export function viewerIsStale(distDir: string): boolean {
  const index = path.join(distDir, 'index.html');
  if (!fs.existsSync(index)) return true;
  const built = fs.statSync(index).mtimeMs;
  return SOURCES.some((s) => newestMtime(path.join(ROOT, s)) > built);
}

export async function ensureViewerBuilt(distDir: string, log: (m: string) => void): Promise<void> {
  if (!viewerIsStale(distDir)) return;
  log('building the viewer (vite build) …');
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, 'viewer/vite.config.ts'), logLevel: 'warn' });
}
