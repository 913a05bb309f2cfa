/**
 * The page of a `lab export --html` file: one trained policy and its env, playing in any browser, offline. The
 * file carries everything (cli/export.ts assembles it): this script bundled whole (envs, the play view,
 * renderers, Pixi, tfjs with its wasm binaries as data: URLs), the viewer's CSS, and the policies' files as
 * JSON in `<script type="application/json" id="lab-export">` (weights base64). Nothing is fetched from
 * anywhere but data: URLs, so it works from file:// and under a Content-Security-Policy that allows only what
 * the file holds. tfjs picks WebGPU when the browser offers an adapter, else wasm; `?backend=wasm` forces wasm.
 */
// Pixi compiles its uniform uploads with new Function unless this is loaded; the file's CSP allows no eval.
import 'pixi.js/unsafe-eval';
import '../src/style.css';
import './export.css';
import { PlayView } from '../src/play/play_view.js';
import { tfRuntime } from '../src/net/tf_runtime.js';
import { sharedStage } from '../src/stage/pool.js';
import { h } from '../src/ui/dom.js';
import { decodeExport, EXPORT_DATA_ID } from './export_data.js';

// The frame renderers, as the viewer registers them (plugins.ts), without the run views.
import.meta.glob('../src/renderers/*.ts', { eager: true });

const root = document.getElementById('app');
if (!root) throw new Error('export page: #app element missing');
try {
  const data = decodeExport(document.getElementById(EXPORT_DATA_ID)?.textContent ?? '');
  const view = new PlayView(
    {
      subtitle: `Run ${data.run.runId}, exported ${data.exportedAt.slice(0, 10)} by RL Lab ${data.labVersion}: the env and the policy both run in this page, offline.`,
      available: data.available,
      initial: data.initial,
      files: async (choice) => data.files(choice),
      where: (choice) => `${data.run.runId}/${choice}`,
    },
    () => tfRuntime(),
    sharedStage(0),
  );
  root.replaceChildren(h('main', { class: 'export-shell' }, view.el, h('footer', { class: 'export-footer', text: `${data.run.envId} · ${data.run.agent}${data.run.preset ? ` (${data.run.preset})` : ''} · trained ${data.run.step.toLocaleString('en')} steps · made with RL Lab` })));
} catch (err) {
  root.replaceChildren(h('div', { class: 'page-message', testid: 'export-error', text: `This exported file cannot be played: ${err instanceof Error ? err.message : String(err)}` }));
}
