/**
 * `lab backends` and auto's choice around WebGPU: without a hardware adapter auto takes wasm and prints nothing
 * of Dawn's complaints; with SwiftShader (a software adapter) webgpu is usable on request but auto still skips
 * it; the adapter probe's answer is kept, keyed by the driver setup.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { LAB } from './lab_cli.js';
import { initCompute } from '../lab/compute.js';
import { SWIFTSHADER_ENV, skipWebgpuTests } from './webgpu.js';

const runtime = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-backends-'));
afterAll(() => fs.rmSync(runtime, { recursive: true, force: true }));

interface Row {
  backend: string;
  usable: boolean;
  autoTakes: boolean;
  note: string;
}

function backends(extraEnv: Record<string, string>): { rows: Row[]; auto: { backend: string; reason: string }; err: string } {
  const env: Record<string, string | undefined> = { ...process.env, LAB_RUNTIME_DIR: runtime, ...extraEnv };
  if (!extraEnv.VK_ICD_FILENAMES) delete env.VK_ICD_FILENAMES;
  const r = spawnSync(process.execPath, [LAB, 'backends', '--json'], { env, encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  const body = JSON.parse(r.stdout) as { backends: Row[]; auto: { backend: string; reason: string } };
  return { rows: body.backends, auto: body.auto, err: r.stderr };
}

describe('lab backends', () => {
  it('lists the backends in auto order; with no GPU auto takes wasm, quietly', () => {
    const { rows, auto, err } = backends({});
    expect(rows.map((r) => r.backend)).toEqual(['node-gpu', 'webgpu', 'node', 'wasm', 'cpu']);
    const by = Object.fromEntries(rows.map((r) => [r.backend, r]));
    expect(by['node-gpu']).toMatchObject({ usable: false, autoTakes: false, note: '@tensorflow/tfjs-node-gpu is not installed' });
    expect(by.webgpu!.autoTakes).toBe(false);
    expect(by.wasm).toMatchObject({ usable: true, autoTakes: true });
    expect(by.cpu).toMatchObject({ usable: true, autoTakes: false });
    expect(auto.backend).toBe('wasm');
    expect(auto.reason).toMatch(/webgpu: (Dawn found no adapter|only a software adapter)/);
    // Dawn's and the Vulkan loader's complaints about drivers stay in the probe's child process.
    expect(err).toBe('');
    const cached = JSON.parse(fs.readFileSync(path.join(runtime, 'webgpu-adapter.json'), 'utf8')) as { fingerprint: string };
    expect(cached.fingerprint).toContain(process.version);
  });

  it.skipIf(skipWebgpuTests)('with SwiftShader webgpu is usable on request, said to be software, and auto still takes wasm', () => {
    const { rows, auto } = backends(SWIFTSHADER_ENV);
    const webgpu = rows.find((r) => r.backend === 'webgpu')!;
    expect(webgpu.usable).toBe(true);
    expect(webgpu.autoTakes).toBe(false);
    expect(webgpu.note).toMatch(/SwiftShader.*software adapter/);
    expect(auto.backend).toBe('wasm');
    expect(auto.reason).toContain('webgpu: only a software adapter (SwiftShader');
    // A different driver setup is a different key: the cache now holds the SwiftShader answer.
    const cached = JSON.parse(fs.readFileSync(path.join(runtime, 'webgpu-adapter.json'), 'utf8')) as { fingerprint: string; adapter: { software: boolean } };
    expect(cached.fingerprint).toContain(SWIFTSHADER_ENV.VK_ICD_FILENAMES);
    expect(cached.adapter.software).toBe(true);
  });

  it.skipIf(skipWebgpuTests)('--backend webgpu without any adapter is one line saying what to install', () => {
    const env: Record<string, string | undefined> = { ...process.env, LAB_RUNTIME_DIR: runtime, VK_ICD_FILENAMES: '/nonexistent/icd.json' };
    const r = spawnSync(process.execPath, [LAB, 'train', '--env', 'CartPole-v1', '--agent', 'dqn', '--steps', '100', '--backend', 'webgpu', '--out', runtime, '--run-id', 'no-adapter'], { env, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/backend 'webgpu' is not usable: webgpu: Dawn found no adapter .*libvulkan1/);
    expect(fs.existsSync(path.join(runtime, 'no-adapter'))).toBe(false);
  });

  it('a caller that needs synchronous reads (Go opponents, AlphaZero-lite) has auto pass over webgpu, and says so', async () => {
    const info = await initCompute('auto', { needsSyncReads: 'the Go opponent is asked for moves synchronously' });
    expect(info.syncReads).toBe(true);
    expect(info.reason).toContain('webgpu: passed over, it reads back asynchronously and the Go opponent is asked for moves synchronously');
    const plain = await initCompute('auto');
    expect(plain.reason).not.toContain('passed over');
  });
});
