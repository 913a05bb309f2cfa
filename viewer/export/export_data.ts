/**
 * The data block of an exported HTML file (`<script type="application/json" id="lab-export">`), as cli/export.ts
 * writes it and the page reads it: the run's identity and each exported policy's files, weights base64.
 *
 *   { format: 'rl-gan-lab/html-export@1', labVersion, exportedAt, initial: 'policy' | 'best_policy',
 *     run: { runId, envId, agent, preset, step },
 *     policies: { policy?: { modelJson, weightsBase64, labJson, obsNormalization }, best_policy?: { … } } }
 */
import type { PolicyChoice, PolicyFiles } from '../src/play/session.js';

export const EXPORT_DATA_ID = 'lab-export';
export const EXPORT_FORMAT = 'rl-gan-lab/html-export@1';

export interface ExportedPolicy {
  modelJson: PolicyFiles['modelJson'];
  weightsBase64: string;
  labJson: unknown;
  obsNormalization: unknown;
}

export interface ExportData {
  format: typeof EXPORT_FORMAT;
  labVersion: string;
  exportedAt: string;
  initial: PolicyChoice;
  run: { runId: string; envId: string; agent: string; preset: string | null; step: number };
  policies: Partial<Record<PolicyChoice, ExportedPolicy>>;
}

function bytesOf(base64: string): ArrayBuffer {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes.buffer;
}

/** The data block, checked; `files(choice)` gives a policy's files as the play view loads them. */
export function decodeExport(text: string): ExportData & { available: PolicyChoice[]; files(choice: PolicyChoice): PolicyFiles } {
  let data: ExportData;
  try {
    data = JSON.parse(text) as ExportData;
  } catch {
    throw new Error('its data block is missing or not JSON');
  }
  if (data?.format !== EXPORT_FORMAT) throw new Error(`its data block is not '${EXPORT_FORMAT}'`);
  const available = (['policy', 'best_policy'] as const).filter((c) => data.policies[c] !== undefined);
  if (available.length === 0) throw new Error('it holds no policy');
  return {
    ...data,
    available,
    initial: available.includes(data.initial) ? data.initial : available[0]!,
    files(choice) {
      const p = data.policies[choice];
      if (!p) throw new Error(`this file holds no ${choice}`);
      return { modelJson: p.modelJson, weights: bytesOf(p.weightsBase64), labJson: p.labJson, obsNormalization: p.obsNormalization };
    },
  };
}
