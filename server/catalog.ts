/**
 * What the viewer's "New run" form offers: the registered envs (with their render fps and frame kind) and the
 * agents with their presets. Also checks a start request before a trainer process is spawned for it.
 */
import { envIds, make, registration } from '../envs/index.js';
import { AGENTS, agentEntry, findPreset } from '../agents/registry.js';
import type { Catalog, CatalogEnv, StartRunRequest } from '../lab/protocol.js';

let cached: Catalog | null = null;

function describeEnv(id: string): CatalogEnv {
  const env = make(id, { renderMode: 'json' });
  try {
    env.reset({ seed: 0 });
    const frame = env.render();
    const space = env.actionSpace as { n?: unknown };
    return {
      id,
      fps: env.metadata.renderFps,
      frameKind: frame && typeof frame === 'object' && 'kind' in frame ? (frame as { kind: CatalogEnv['frameKind'] }).kind : null,
      nActions: typeof space.n === 'number' ? space.n : null,
    };
  } finally {
    env.close();
  }
}

export function catalog(): Catalog {
  cached ??= {
    envs: envIds().map(describeEnv),
    agents: Object.entries(AGENTS).map(([name, entry]) => ({
      name,
      description: entry.description,
      presets: Object.entries(entry.presets).map(([presetName, p]) => ({ name: presetName, envId: p.train?.envId ?? p.envs[0] ?? null, description: p.description })),
    })),
  };
  return cached;
}

export function envFps(envId: string): number {
  return catalog().envs.find((e) => e.id === envId)?.fps ?? 30;
}

/** Throws a message naming the problem (unknown env, agent or preset; a preset fixed to another env). */
export function checkStartRequest(request: StartRunRequest): { envId: string; preset: string | null; steps: number } {
  registration(request.envId);
  agentEntry(request.agent); // unknown agents fail here, naming the known ones
  const found = findPreset(request.agent, request.envId, request.preset);
  const fixedEnv = found?.preset.train?.envId;
  if (fixedEnv && fixedEnv !== request.envId) throw new Error(`preset '${found!.name}' of ${request.agent} runs on ${fixedEnv}, not ${request.envId}`);
  return { envId: request.envId, preset: found?.name ?? null, steps: request.steps ?? found?.preset.train?.steps ?? 100_000 };
}
