/**
 * `lab export <run> --html`: the file it writes, opened from disk (file://) in headless Chromium with WebGPU on
 * (SwiftShader) and off (wasm), plays the trained CartPole policy (test/play_fixture.ts) for the full 500 steps,
 * says which backend runs it, requests nothing but file:/data:/blob: URLs and breaks none of its own
 * Content-Security-Policy; the final/best choice and --policy; and bad input: one line, exit code 1, no file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLab } from './lab_cli.js';
import { openPage, skipBrowserTests } from './browser.js';
import { PLAY_RUN_ID, trainCartPolePolicy } from './play_fixture.js';

let runsDir: string;
let runDir: string;
let work: string;
let exported: string;

beforeAll(async () => {
  ({ runsDir, runDir } = await trainCartPolePolicy('lab-export-'));
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-export-out-'));
  exported = path.join(work, 'cartpole.html');
  const result = await runLab(['export', runDir, '--html', '--out', exported], work);
  expect(result.code, result.err).toBe(0);
  expect(result.out).toMatch(new RegExp(`^wrote ${exported.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+\\.\\d MB; final and best policy\\): open it in any browser, offline\\n$`));
}, 240_000);

afterAll(() => {
  for (const d of [runsDir, work]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('lab export --html: the file', () => {
  it('holds everything: the policies inline, a CSP allowing only what the file holds, no URL to fetch', () => {
    const html = fs.readFileSync(exported, 'utf8');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp).toMatch(/^default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+' 'wasm-unsafe-eval'; style-src 'sha256-[A-Za-z0-9+/=]+'; /);
    expect(csp).not.toMatch(/https?:|'unsafe-inline'|'unsafe-eval'/);
    const data = JSON.parse(/<script type="application\/json" id="lab-export">([\s\S]*?)<\/script>/.exec(html)![1]!) as {
      initial: string;
      run: { runId: string; envId: string; agent: string };
      policies: Record<string, { weightsBase64: string; labJson: { policy: { envId: string } } }>;
    };
    expect(data.run).toMatchObject({ runId: PLAY_RUN_ID, envId: 'CartPole-v1', agent: 'ppo' });
    expect(data.initial).toBe('policy');
    expect(Object.keys(data.policies).sort()).toEqual(['best_policy', 'policy']);
    // The weights are the run's own bytes.
    expect(Buffer.from(data.policies.policy!.weightsBase64, 'base64').equals(fs.readFileSync(path.join(runDir, 'policy', 'weights.bin')))).toBe(true);
    // One inline module script, no external script or stylesheet.
    expect(html.match(/<script type="module">/g)).toHaveLength(1);
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);
  });

  for (const mode of ['webgpu', 'wasm'] as const) {
    it.skipIf(skipBrowserTests)(`opened from disk (${mode}): the policy balances 500 steps`, async () => {
      const errors: string[] = [];
      const { browser, page } = await openPage(errors, { webgpu: mode === 'webgpu' });
      const fetched: string[] = [];
      page.on('request', (r) => {
        if (!/^(file|data|blob):/.test(r.url())) fetched.push(r.url());
      });
      try {
        await page.goto(pathToFileURL(exported).href);
        await page.waitForSelector('[data-testid=play-backend][data-backend]', { timeout: 60_000 });
        expect(await page.getAttribute('[data-testid=play-backend]', 'data-backend')).toBe(mode);
        if (mode === 'webgpu') expect(await page.getAttribute('[data-testid=play-backend]', 'data-architecture')).toBe('swiftshader');
        expect(await page.textContent('[data-testid=play-backend]')).toBe(mode === 'webgpu' ? 'WebGPU (software)' : 'wasm');
        await page.waitForSelector('[data-testid=play-speed]:not([disabled])', { timeout: 60_000 });
        expect(await page.textContent('[data-testid=play-title]')).toBe('CartPole-v1 · ppo (cartpole)');
        await page.selectOption('[data-testid=play-speed]', 'max');
        const li = await page.waitForSelector('[data-testid=play-result]', { timeout: 150_000 });
        expect({ length: await li.getAttribute('data-length'), ret: await li.getAttribute('data-return'), ended: await li.getAttribute('data-ended') }).toEqual({ length: '500', ret: '500', ended: 'truncated' });
        // The stage drew Cart-Pole frames (a canvas the size of its box).
        const canvas = await page.locator('[data-testid=play-stage] canvas').boundingBox();
        expect(canvas!.width).toBeGreaterThan(300);
        // At phone width the HUD's "RUNS ON" value is whole (it wraps rather than being cut to "WebGPU (soft…").
        await page.setViewportSize({ width: 390, height: 844 });
        const backend = await page.locator('[data-testid=play-backend]').evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
        expect(backend.scroll).toBeLessThanOrEqual(backend.client);
        expect(fetched).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await browser.close();
      }
    }, 240_000);
  }

  it.skipIf(skipBrowserTests)('--policy best: the page starts with the best policy', async () => {
    const best = path.join(work, 'best.html');
    const result = await runLab(['export', runDir, '--html', '--out', best, '--policy', 'best'], work);
    expect(result.code, result.err).toBe(0);
    const errors: string[] = [];
    const { browser, page } = await openPage(errors);
    try {
      await page.goto(`${pathToFileURL(best).href}?backend=wasm`);
      await page.waitForSelector('[data-testid=play-reset]:not([disabled])', { timeout: 60_000 });
      expect(await page.inputValue('[data-testid=play-policy]')).toBe('best_policy');
      expect(await page.getAttribute('[data-testid=play-backend]', 'data-backend')).toBe('wasm');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

describe('lab export: bad input is one line and exit code 1, and writes nothing', () => {
  /** A copy of the trained run, changed by `edit`. */
  function variant(name: string, edit: (dir: string) => void): string {
    const dir = path.join(work, name);
    fs.cpSync(runDir, dir, { recursive: true });
    edit(dir);
    return dir;
  }

  async function refused(args: string[], message: RegExp): Promise<void> {
    const out = path.join(work, 'refused.html');
    const result = await runLab([...args, '--out', out], work);
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    expect(result.err.trim().split('\n')).toHaveLength(1);
    expect(result.err).toMatch(message);
    expect(fs.existsSync(out)).toBe(false);
  }

  it('no format, not a run, a missing path', async () => {
    await refused(['export', runDir], /^lab: error: lab export needs a format: --html/);
    const empty = fs.mkdtempSync(path.join(work, 'empty-'));
    await refused(['export', empty, '--html'], /is not a run directory \(it has no config\.json\)/);
    await refused(['export', path.join(work, 'nowhere'), '--html'], /nowhere does not exist/);
  });

  it('a GAN run', async () => {
    await refused(['export', path.resolve('data/sample-runs/gan-apple-fast-s1'), '--html'], /is a GAN run: lab export --html plays RL policies/);
  });

  it('a run without a saved policy, or without the one asked for', async () => {
    const none = variant('no-policy', (d) => {
      fs.rmSync(path.join(d, 'policy'), { recursive: true });
      fs.rmSync(path.join(d, 'best_policy'), { recursive: true });
    });
    await refused(['export', none, '--html'], /has no saved policy \(policy\/ or best_policy\/\)/);
    const finalOnly = variant('final-only', (d) => fs.rmSync(path.join(d, 'best_policy'), { recursive: true }));
    await refused(['export', finalOnly, '--html', '--policy', 'best'], /has no best policy \(best_policy\/\); it has policy/);
  });

  it('an env from a plug-in module', async () => {
    const plugin = variant('plugin', (d) => {
      const file = path.join(d, 'config.json');
      const config = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
      fs.writeFileSync(file, JSON.stringify({ ...config, envId: './my_envs.ts:Corridor-v0' }));
    });
    await refused(['export', plugin, '--html'], /its env '\.\/my_envs\.ts:Corridor-v0' comes from a plug-in module; an exported page runs only the lab's built-in envs/);
  });

  it('a damaged lab.json', async () => {
    const damaged = variant('damaged', (d) => {
      for (const dir of ['policy', 'best_policy']) fs.writeFileSync(path.join(d, dir, 'lab.json'), '{"format":"rl-gan-lab/network@2","spec":{"inputShape":[4],"layers":[{"type":"dense","units":2}]}}');
    });
    await refused(['export', damaged, '--html'], /policy\/lab\.json: no "policy" field/);
  });
});
