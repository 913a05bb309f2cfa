/**
 * Play in browser (#/play/<runId>?policy=best_policy): a trained RL policy plays its env in this page, with no
 * trainer and no server work beyond handing out the policy's files (`GET /api/runs/<id>/models/<dir>/<file>`).
 * The view itself (play/play_view.ts: the envs) is imported when the page opens, and tfjs when the view starts
 * (net/tf_runtime.ts), so the viewer's other pages never load either.
 */
import { API, type ModelFile, type ModelListResponse } from '../../../protocol/protocol.js';
import type { Page } from '../core/app.js';
import { ApiError, fetchJson } from '../net/api.js';
import { tfRuntime } from '../net/tf_runtime.js';
import type { Route } from '../model/routes.js';
import { sharedStage } from '../stage/pool.js';
import { h, setText } from '../ui/dom.js';
import type { PlayView } from '../play/play_view.js';
import type { PolicyChoice, PolicyFiles } from '../play/session.js';

type PlayRoute = Extract<Route, { page: 'play' }>;

const CHOICES: readonly PolicyChoice[] = ['policy', 'best_policy'];

async function fetchBytes(path: string): Promise<ArrayBuffer> {
  const res = await fetch(path);
  if (!res.ok) throw new ApiError(res.status, `GET ${path}: ${res.status} ${res.statusText}`);
  return res.arrayBuffer();
}

/** The files of one of a run's policies, fetched from the lab server; `files`: those the run's model list says it holds. */
export async function fetchPolicyFiles(runId: string, dir: PolicyChoice, files: readonly ModelFile[]): Promise<PolicyFiles> {
  const [labJson, modelJson, weights, obsNormalization] = await Promise.all([
    fetchJson<unknown>(API.modelFile(runId, dir, 'lab.json')),
    fetchJson<PolicyFiles['modelJson']>(API.modelFile(runId, dir, 'model.json')),
    fetchBytes(API.modelFile(runId, dir, 'weights.bin')),
    files.includes('obs_normalization.json') ? fetchJson<unknown>(API.modelFile(runId, dir, 'obs_normalization.json')) : null,
  ]);
  return { modelJson, weights, labJson, obsNormalization };
}

export class PlayPage implements Page {
  readonly el: HTMLElement;
  private view: PlayView | null = null;
  private destroyed = false;

  constructor(private readonly route: PlayRoute) {
    const message = h('div', { class: 'page-message', testid: 'play-page-status', text: 'Loading…' });
    this.el = h('div', { class: 'play-host' }, message);
    void this.open(message);
  }

  update(route: Route): boolean {
    // Another run or policy: a new page (a new session from its first episode).
    return route.page === 'play' && route.runId === this.route.runId && route.policy === this.route.policy;
  }

  destroy(): void {
    this.destroyed = true;
    this.view?.destroy();
    this.el.remove();
  }

  private async open(message: HTMLElement): Promise<void> {
    const runId = this.route.runId;
    try {
      // Which of the run's policies exist: a run stopped early may have only one, or none (asked once, so that a
      // missing one is not a failed request in the console).
      const { models, files } = await fetchJson<ModelListResponse>(API.models(runId));
      const available = CHOICES.filter((c) => models.includes(c));
      if (available.length === 0) throw new Error(`Run ${runId} has no saved policy to play (policy/ and best_policy/ are written when training ends or an evaluation improves).`);
      const initial = this.route.policy && available.includes(this.route.policy) ? this.route.policy : available[0]!;
      const { PlayView } = await import('../play/play_view.js');
      if (this.destroyed) return;
      this.view = new PlayView(
        {
          subtitle: `Run ${runId}: its trained policy plays in this page (env and network both here, nothing runs on the server).`,
          available,
          initial,
          files: (c) => fetchPolicyFiles(runId, c, files[c] ?? []),
          where: (c) => `${runId}/${c}`,
        },
        () => tfRuntime(),
        sharedStage(0),
      );
      message.remove();
      this.el.append(this.view.el);
    } catch (err) {
      if (this.destroyed) return;
      message.dataset.error = 'true';
      setText(message, err instanceof Error ? err.message : String(err));
    }
  }
}
