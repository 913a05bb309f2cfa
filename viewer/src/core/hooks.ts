/** `window.__lab`: the state an end-to-end test reads (watched run, frames received and drawn, a stage probe). */
import type { StepFrame } from '../../../lab/protocol.js';
import { rgb, STAGE } from '../model/palette.js';
import type { StageProbe } from '../stage/stage.js';

export interface LabHooks {
  watchedRunId: string | null;
  /** Step frames received for the watched run (watch ack and `run:frames`). */
  framesReceived: number;
  /** The frame drawn last. */
  lastFrame: StepFrame | null;
  /** Frames drawn so far. */
  drawn: number;
  /** Key points (CSS px, relative to the stage canvas's top-left) and colours of the drawn frame. */
  stageProbe(): StageProbe;
}

declare global {
  interface Window {
    __lab: LabHooks;
  }
}

let probeSource: (() => StageProbe) | null = null;

/** The stage that answers `stageProbe()`. */
export function setProbeSource(fn: (() => StageProbe) | null): void {
  probeSource = fn;
}

export const hooks: LabHooks = {
  watchedRunId: null,
  framesReceived: 0,
  lastFrame: null,
  drawn: 0,
  stageProbe(): StageProbe {
    if (probeSource) return probeSource();
    const background = rgb(STAGE.background);
    return { kind: '', points: {}, colors: { background }, background };
  },
};

export function installHooks(): void {
  window.__lab = hooks;
}
