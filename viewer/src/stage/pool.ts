/**
 * The page's Pixi stages, by slot: each is one WebGL canvas, created on first use and kept for the session
 * (pages come and go, but WebGL contexts are few and slow to create). Only one page shows at a time, so the
 * pages share them: the live view and the replay player use slot 0, a side-by-side replay slots 0 and 1.
 * A page attaches a stage on mount and must `clear()` and `detach()` it when it goes.
 */
import { Stage } from './stage.js';

const stages = new Map<number, Promise<Stage>>();

export function sharedStage(slot: number): Promise<Stage> {
  let s = stages.get(slot);
  if (!s) {
    s = Stage.create();
    // A failed creation (no WebGL) is retried on the next request.
    s.catch(() => stages.delete(slot));
    stages.set(slot, s);
  }
  return s;
}
