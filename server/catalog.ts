/**
 * What the viewer's "New run" form offers: the registered envs (with their render fps and frame kind) and the
 * agents with their presets; for GAN runs the Quick, Draw! categories at hand and the GAN presets. Also checks
 * a start request before a trainer process is spawned for it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { envIds, make, registration, toRenderFrame } from '../envs/index.js';
import { agentEntry, agentNames, findPreset } from '../agents/registry.js';
import type { Catalog, CatalogAgent, CatalogEnv, CatalogGan, GanStartRequest, RlStartRequest } from '../protocol/protocol.js';
import { GAN_PRESETS } from '../gan/models.js';
import { defaultCacheDir, SHIPPED_CATEGORIES } from '../gan/data.js';

let cached: { envs: CatalogEnv[]; agents: CatalogAgent[] } | null = null;

/** The preset a GAN run started from the viewer uses when the request names none. */
export const DEFAULT_GAN_PRESET = 'fast';

function describeEnv(id: string): CatalogEnv {
  const env = make(id, { renderMode: 'json' });
  try {
    env.reset({ seed: 0 });
    const frame = toRenderFrame(env.render());
    const space = env.actionSpace as { n?: unknown };
    return {
      id,
      fps: env.metadata.renderFps,
      frameKind: frame ? frame.kind : null,
      nActions: typeof space.n === 'number' ? space.n : null,
    };
  } finally {
    env.close();
  }
}

export function catalog(): Catalog {
  return { ...rlCatalog(), gan: ganCatalog() };
}

function rlCatalog(): { envs: CatalogEnv[]; agents: CatalogAgent[] } {
  cached ??= {
    envs: envIds().map(describeEnv),
    // Built-in agents and those `lab serve --import` modules registered (imported before the first request).
    agents: agentNames().map((name) => [name, agentEntry(name)] as const).map(([name, entry]) => ({
      name,
      description: entry.description,
      presets: Object.entries(entry.presets).map(([presetName, p]) => ({ name: presetName, envId: p.train?.envId ?? p.envs[0] ?? null, description: p.description })),
    })),
  };
  return cached;
}

/**
 * Quick, Draw! categories a GAN run started from the viewer can use without downloading anything: the shipped
 * subset and whatever `lab gan train` has already cached (read anew each time: a download adds one).
 */
export function ganCategories(cacheDir = defaultCacheDir()): string[] {
  const names = new Set<string>(SHIPPED_CATEGORIES);
  try {
    for (const f of fs.readdirSync(cacheDir)) {
      if (f.endsWith('.npy') && !f.startsWith('.') && fs.statSync(path.join(cacheDir, f)).isFile()) names.add(f.slice(0, -4));
    }
  } catch {
    // no cache yet
  }
  return [...names].sort((a, b) => a.localeCompare(b));
}

export function ganCatalog(): CatalogGan {
  return {
    categories: ganCategories(),
    presets: Object.entries(GAN_PRESETS).map(([name, p]) => ({ name, description: p.description, iterations: p.hyperparameters.iterations })),
    defaultPreset: DEFAULT_GAN_PRESET,
  };
}

/** Checks a GAN start request; the errors name the field (`category: …`, `preset: …`). */
export function checkGanStartRequest(request: GanStartRequest): { category: string; preset: string; iterations: number } {
  const categories = ganCategories();
  if (!categories.includes(request.category)) {
    throw new Error(
      `category: ${JSON.stringify(request.category)} is not available on this server (it trains on ${categories.join(', ')}; ` +
        `download another once from a terminal with npx lab gan train --category <name>)`,
    );
  }
  const preset = request.preset ?? DEFAULT_GAN_PRESET;
  const found = Object.hasOwn(GAN_PRESETS, preset) ? GAN_PRESETS[preset] : undefined;
  if (!found) throw new Error(`preset: unknown GAN preset ${JSON.stringify(preset)}; choose one of ${Object.keys(GAN_PRESETS).join(', ')}`);
  return { category: request.category, preset, iterations: request.iterations ?? found.hyperparameters.iterations };
}

export function envFps(envId: string): number {
  return rlCatalog().envs.find((e) => e.id === envId)?.fps ?? 30;
}

/** Throws a message naming the problem (unknown env, agent or preset; a preset fixed to another env). */
export function checkStartRequest(request: RlStartRequest): { envId: string; preset: string | null; steps: number } {
  registration(request.envId);
  agentEntry(request.agent); // unknown agents fail here, naming the known ones
  const found = findPreset(request.agent, request.envId, request.preset);
  const fixedEnv = found?.preset.train?.envId;
  if (fixedEnv && fixedEnv !== request.envId) throw new Error(`preset '${found!.name}' of ${request.agent} runs on ${fixedEnv}, not ${request.envId}`);
  return { envId: request.envId, preset: found?.name ?? null, steps: request.steps ?? found?.preset.train?.steps ?? 100_000 };
}
