/**
 * Entry point of the viewer: registers renderers and views, installs the test hooks, starts the app.
 *
 * Layout of src/:
 *   core/        the app (top bar, hash router, pages), run-view registry, navigation, `window.__lab` hooks
 *   pages/       Live (runs, new-run form, the watched run), Replays (saved replay logs), the replay player
 *                (one log, or two side by side on one timeline), Compare (learning curves and scores of runs),
 *                Play Go (a person against an agent run by the server)
 *   net/         socket.io connection to the lab server's /live namespace and the HTTP API
 *   model/       pure TypeScript (no DOM, no Pixi; unit-tested in Node): playback, routes, replays, geometry,
 *                charts, comparisons, formatting, the Go page's settings and texts
 *   stage/       the Pixi stages (a small pool shared by the pages) and the frame-renderer registry
 *   renderers/   one file per frame kind, each calling registerFrameRenderer(kind, factory)
 *   views/       one file per run kind ('rl', later 'gan'), each calling registerRunView(kind, factory)
 *   ui/          DOM components: new-run form, runs list, learning-curve charts
 * Files under renderers/ and views/ are picked up by plugins.ts, so adding one is a one-file change.
 */
import './style.css';
import './plugins.js';
import { App } from './core/app.js';
import { installHooks } from './core/hooks.js';

installHooks();
const root = document.getElementById('app');
if (!root) throw new Error('viewer: #app element missing');
new App(root);
