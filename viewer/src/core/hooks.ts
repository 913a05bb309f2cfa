/**
 * `window.__lab`: the state an end-to-end test reads (watched run, frames received and drawn, a stage probe;
 * the replay panes on screen with the step and frame each one shows; the Go game on the Play page; the sample
 * grid of a watched GAN run).
 */
import type { GoGameState, RenderFrame, SamplesEvent, StepFrame } from '../../../protocol/protocol.js';
import { rgb, STAGE } from '../model/palette.js';
import type { StageProbe } from '../stage/stage.js';
import type { GeneratorMeta } from '../model/latent.js';
import type { RuntimeInfo } from '../net/tf_runtime.js';

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
  /** The replay player (one pane) or side-by-side replay (two panes) on screen; no panes elsewhere. */
  replay: { panes: ReplayPaneHook[] };
  /** The Play Go page. */
  go: GoHook;
  /** The GAN run view. */
  gan: GanHook;
  /** The GAN latent explorer (null while it is not on screen). */
  latent: LatentHook | null;
}

/** The GAN latent explorer (pages/latent.ts): what it generated, in the page, from which latent vectors. */
export interface LatentHook {
  status: 'loading' | 'ready' | 'error';
  error: string | null;
  /** Where the generator runs (backend, adapter, software or not). */
  runtime: RuntimeInfo | null;
  /** The generator's lab.json as read (latent size and distribution, pixel range, …). */
  meta: GeneratorMeta | null;
  imageSize: { width: number; height: number } | null;
  /** Seed of the grid on screen. */
  seed: number;
  /** The grid's latent vectors and images ([0, 1] floats, 0 background, 1 ink), one row per sample. */
  latents: number[][];
  images: number[][];
  /** Samples picked as A and B (indices into the grid). */
  a: number;
  b: number;
  /** Slider directions (unit latent vectors) and their shares of the images' variance. */
  directions: number[][];
  explained: number[];
  /** Slider positions of the edited image on screen. */
  amounts: number[];
  /** A moved along the directions: its latent and image. */
  edited: { latent: number[]; image: number[] } | null;
  /** The interpolation strip from A to B. */
  interpolation: { latents: number[][]; images: number[][] };
  /** Draws so far (changes whenever a canvas is redrawn). */
  renders: number;
  /** Centre of pixel (px, py) of image k of a canvas, CSS px from its top-left; throws before it is drawn. */
  pointOf(canvas: 'grid' | 'edited' | 'strip', k: number, px: number, py: number): [number, number];
  /** A canvas's RGB at CSS px (x, y) from its top-left. */
  pixelAt(canvas: 'grid' | 'edited' | 'strip', x: number, y: number): [number, number, number];
}

export interface GanHook {
  /** Iteration of the grid on screen (null before one is drawn). */
  step: number | null;
  /** Iteration of the newest grid received. */
  newestStep: number | null;
  /** Sample grids received for the watched run (the watch ack's and `run:samples`). */
  received: number;
  /** Iterations of the grids in the history strip, oldest first. */
  history: number[];
  /** The samples event of the grid on screen, as received. */
  samples: SamplesEvent | null;
  /** Update points in the curves. */
  curvePoints: number;
  /** The centre of pixel (px, py) of image k in CSS px from the grid canvas's top-left; throws before a grid is drawn. */
  pointOf(k: number, px: number, py: number): [number, number];
  /** The grid canvas's RGB at CSS px (x, y) from its top-left. */
  pixelAt(x: number, y: number): [number, number, number];
}

export interface GoHook {
  /** The game on screen (the latest state from an ack or a `go:state` push); null without one. */
  state: GoGameState | null;
  /** The centre of a point (row·N + col) in CSS px from the board canvas's top-left; throws before the board is drawn. */
  pointAt(move: number): [number, number];
}

export interface ReplayPaneHook {
  runId: string;
  name: string;
  /** Frame index drawn: 0 after the reset, k after step k (-1 before the first draw). */
  step: number;
  /** The render frame drawn (a string for text-only envs; null before the first draw). */
  frame: RenderFrame | string | null;
  /** Key points of the pane's stage (CSS px from its canvas's top-left) and their colours. */
  probe(): StageProbe;
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
    return emptyProbe();
  },
  replay: { panes: [] },
  go: noGoHook(),
  gan: noGanHook(),
  latent: null,
};

/** The GAN hook while no GAN run view is on screen. */
export function noGanHook(): GanHook {
  return {
    step: null,
    newestStep: null,
    received: 0,
    history: [],
    samples: null,
    curvePoints: 0,
    pointOf(): [number, number] {
      throw new Error('no GAN sample grid on screen');
    },
    pixelAt(): [number, number, number] {
      throw new Error('no GAN sample grid on screen');
    },
  };
}

/** The Go hook while no Play page is on screen. */
export function noGoHook(): GoHook {
  return {
    state: null,
    pointAt(): [number, number] {
      throw new Error('no Go board on screen');
    },
  };
}

/** The probe of a stage that draws nothing. */
export function emptyProbe(): StageProbe {
  const background = rgb(STAGE.background);
  return { kind: '', points: {}, colors: { background }, background };
}

export function installHooks(): void {
  window.__lab = hooks;
}
