/**
 * The live protocol: every message between the lab server, the trainers that publish to it (`lab train --live`)
 * and the browser viewer, with the schemas the server validates inbound payloads against.
 *
 * One source of truth shared by server, publisher and viewer, so it imports nothing from Node or the DOM
 * (only types from the envs and the event definitions).
 *
 *   trainer ──/publish──▶ server ──/live──▶ viewer
 *     publisher:hello / :events / :end        run:frames / run:metrics / runs:changed
 *     ◀ publisher:watch / :stop                ◀ runs:list / run:watch / run:unwatch / run:start / run:stop
 */
import { FRAME_KINDS, TEXT_FRAME_MAX_CHARS, VALUES_FRAME_MAX, type GoFrame, type RenderFrame, type TextFrame, type ValuesFrame } from '../envs/frames.js';
import type { AlphaZeroRecord, CheckpointEvent, EpisodeEvent, EvalEvent, GoEvalEvent, IterationEvent, MetricsRecord, PublishedEvent, SamplesEvent, StepAction, StepEvent, TrainEvent, UpdateEvent } from './events.js';

export type { RenderFrame, TrainEvent, StepEvent, EpisodeEvent, EvalEvent, UpdateEvent, CheckpointEvent, SamplesEvent, AlphaZeroRecord, IterationEvent, GoEvalEvent, MetricsRecord };
export type { CompareKind, CompareResult, CurveKey, GroupResult, CurveStats, EnvStats, Estimate, PairResult, ScoreStats } from './compare_types.js';
export { curveKeys } from './compare_types.js';

export const PROTOCOL_VERSION = 1;
/** Socket.io namespace of viewers. */
export const LIVE_NAMESPACE = '/live';
/** Socket.io namespace of trainers publishing a run. */
export const PUBLISH_NAMESPACE = '/publish';
export const DEFAULT_PORT = 3000;
export const DEFAULT_HOST = '127.0.0.1';
/** Where `lab train --live` and `lab gan train --live` publish when given no URL (`lab serve`'s default). */
export const DEFAULT_LIVE_URL = `http://${DEFAULT_HOST}:${DEFAULT_PORT}`;
/** Most messages of frames per second a viewer (or the server, from a publisher) receives for one run. */
export const MAX_FRAME_MESSAGES_PER_SECOND = 60;
/** Most pixels in one sample grid (64 images of 128×128); a training run's are 64 of 28×28. */
export const MAX_GRID_PIXELS = 1 << 20;
/** Most events in one publisher batch (a batch is one socket message). */
export const MAX_EVENTS_PER_BATCH = 4000;

/** Run ids are also directory names: letters, digits, `.`, `_`, `-`, no leading dot. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/;

// ---------------------------------------------------------------------------------------------------------
// Shapes

/**
 * Which viewer family draws a run: RL episodes, GAN sample grids, AlphaZero-lite evaluation results (more may
 * register). The same names as config.json's `kind`.
 */
export type RunKind = 'rl' | 'gan' | 'go-alphazero';
export const RUN_KINDS: readonly RunKind[] = ['rl', 'gan', 'go-alphazero'];

/**
 * starting: launched by the server, trainer not connected yet; running; done; stopped (on request);
 * failed (error or crash); lost (a CLI publisher disconnected mid-run); stored (found on disk, not live);
 * damaged (found on disk, but a file of it cannot be used: `error` says which and why, e.g.
 * "config.json: createdAt: expected a string, got nothing"; no curves, nothing to watch or compare).
 */
export type RunStatus = 'starting' | 'running' | 'done' | 'stopped' | 'failed' | 'lost' | 'stored' | 'damaged';

/**
 * GAN runs in the RL-shaped run records: `envId` is `quickdraw:<category>`, `agent` is 'gan', `steps` counts
 * iterations, and `fps` (no frames to play) is nominal.
 */
export const GAN_AGENT = 'gan';
export const GAN_FPS = 1;
const GAN_ENV_PREFIX = 'quickdraw:';
export function ganEnvId(category: string): string {
  return `${GAN_ENV_PREFIX}${category}`;
}
/** The Quick, Draw! category of a GAN run's envId (null for anything else). */
export function ganCategoryOf(envId: string): string | null {
  return envId.startsWith(GAN_ENV_PREFIX) ? envId.slice(GAN_ENV_PREFIX.length) : null;
}

/**
 * AlphaZero-lite runs (`lab go train`) in the run records: `envId` is `go:<N>x<N>`, `agent` is 'alphazero', `steps`
 * counts self-play iterations, and `fps` is nominal. They are played on the Go page (`#/go?opponent=alphazero&agent=<runId>`).
 */
export const ALPHAZERO_AGENT = 'alphazero';
const GO_ENV_PREFIX = 'go:';
export function goEnvId(size: number): string {
  return `${GO_ENV_PREFIX}${size}x${size}`;
}
/** The board size of an AlphaZero-lite run's envId (null for anything else). */
export function goSizeOf(envId: string): number | null {
  const m = /^go:(\d+)x\1$/.exec(envId);
  return m ? Number(m[1]) : null;
}

/** What a publisher announces about its run. */
export interface RunInfo {
  runId: string;
  kind: RunKind;
  envId: string;
  agent: string;
  preset: string | null;
  seed: number;
  /** Env-step budget. */
  steps: number;
  episodes: number | null;
  numEnvs: number;
  backend: string;
  /** The env's render fps: real-time playback speed. */
  fps: number;
  /** Absolute path of the run directory (on the trainer's machine). */
  runDir: string;
  /** Step the run (re)starts from: 0, or the checkpoint a resumed run continues. */
  startStep: number;
  hyperparameters: Record<string, unknown>;
}

/** A run as the viewer lists it. */
export interface RunSummary extends Omit<RunInfo, 'runDir' | 'hyperparameters' | 'startStep'> {
  status: RunStatus;
  /** server: started from the viewer; cli: `lab train --live`; disk: a run directory found in the runs dir. */
  origin: 'server' | 'cli' | 'disk';
  /** Env steps done. */
  step: number;
  episodesDone: number;
  lastReturn: number | null;
  /** Mean return of the last (up to) 100 episodes. */
  meanReturn: number | null;
  lastEval: number | null;
  sps: number | null;
  /** Exploration figure the HUD shows (ε for DQN, policy entropy for REINFORCE / A2C), when known. */
  exploration: { name: string; value: number } | null;
  watchers: number;
  createdAt: string;
  error: string | null;
  /** AlphaZero-lite runs: the results of their newest evaluation (one per opponent), absent for other kinds. */
  lastMatches?: MatchPoint[];
}

/** One env step of sub-env 0, as streamed (a step event without its tag). */
export type StepFrame = Omit<StepEvent, 'type'>;

export interface EpisodePoint {
  step: number;
  episode: number;
  return: number;
  length: number;
}

export interface EvalPoint {
  step: number;
  meanReturn: number;
  stdReturn: number;
  minReturn: number;
  maxReturn: number;
}

export interface UpdatePoint {
  step: number;
  sps: number;
  stats: Record<string, number>;
}

/** An evaluation match of an AlphaZero-lite run (a `go-eval` record) as a curve point: its iteration as `step`. */
export type MatchPoint = Omit<GoEvalEvent, 'type' | 'iteration'> & {
  /** The self-play iteration evaluated. */
  step: number;
};

/**
 * Learning curves of a run so far. GAN and AlphaZero-lite runs count `step` in iterations; an AlphaZero-lite
 * run's iterations are `updates` (stats policyLoss, valueLoss, policyEntropy, meanGameLength, bufferSize …) and
 * its evaluations `matches`.
 */
export interface RunHistory {
  episodes: EpisodePoint[];
  evals: EvalPoint[];
  updates: UpdatePoint[];
  /** AlphaZero-lite evaluation matches, oldest first (absent or empty for other kinds). */
  matches?: MatchPoint[];
}

export interface CatalogEnv {
  id: string;
  fps: number;
  /** Renderer family of its frames ('cartpole', 'frozenlake', …). */
  frameKind: RenderFrame['kind'] | null;
  nActions: number | null;
}

export interface CatalogAgent {
  name: string;
  description: string;
  /** Named presets and the env each was tuned for. */
  presets: { name: string; envId: string | null; description: string }[];
}

/** What the New-run form offers for GAN runs (`lab gan train`). */
export interface CatalogGan {
  /** Quick, Draw! categories this server can train on without downloading (shipped or already cached). */
  categories: string[];
  presets: { name: string; description: string; iterations: number }[];
  defaultPreset: string;
}

export interface Catalog {
  envs: CatalogEnv[];
  agents: CatalogAgent[];
  gan: CatalogGan;
}

/** Opponents a person can play Go against in the viewer (GTP engines run by the server). */
export const GO_OPPONENTS = ['random', 'mcts', 'alphazero', 'gnugo'] as const;
export type GoOpponentKind = (typeof GO_OPPONENTS)[number];

/** A trained AlphaZero-lite agent in the server's runs directory (`lab go train`), as `GET /api/go/agents` lists it. */
export interface GoAgentInfo {
  /** The run directory's name; `go:new` names it in `agent`. */
  runId: string;
  size: number;
  komi: number;
  /** Self-play iterations behind the weights. */
  iteration: number;
}

/** A Go game between a person in the viewer and an agent. */
export interface GoGameState {
  gameId: string;
  size: number;
  komi: number;
  opponent: string;
  humanColor: 'black' | 'white';
  frame: GoFrame;
  /** Moves played (passes included). */
  moves: number;
  /** The agent is choosing its move. */
  thinking: boolean;
  /** Points (row·N + col, pass = N²) the person may play now; empty when it is not their turn. */
  legal: number[];
  over: boolean;
  /** SGF-style result once over: "B+3.5", "W+R" (resignation), "0" (draw). */
  result: string | null;
  /** Area score at the end (not after a resignation). */
  score: { black: number; white: number; komi: number; margin: number } | null;
  /** The game as SGF once over. */
  sgf: string | null;
  error: string | null;
}

export interface GoNewRequest {
  size: number;
  opponent: GoOpponentKind;
  humanColor: 'black' | 'white';
  /** Simulations per move (mcts, alphazero). */
  sims?: number;
  /** The AlphaZero agent's run id (alphazero; see GoAgentInfo). */
  agent?: string;
  /** GnuGo level 0–10 (gnugo). */
  level?: number;
  komi?: number;
}
export interface GoPlayRequest {
  gameId: string;
  /** row·N + col, or N² to pass. */
  move: number;
}
export interface GoRef {
  gameId: string;
}

// ---------------------------------------------------------------------------------------------------------
// Messages

export type Ack<T extends object = object> = ({ ok: true } & T) | { ok: false; error: string };
export type AckFn<T extends object = object> = (response: Ack<T>) => void;

export interface HelloPayload {
  protocol: number;
  run: RunInfo;
}
export interface EventsPayload {
  runId: string;
  events: PublishedEvent[];
  /** Step frames the publisher dropped since its last batch (buffer full while disconnected or too fast). */
  dropped?: number;
}
export interface EndPayload {
  runId: string;
  status: 'done' | 'stopped' | 'failed';
  error?: string;
}
export interface WatchOrder {
  runId: string;
  /** Somebody watches: send step frames. */
  watching: boolean;
  /** Send the steps of every k-th episode only. */
  frameEvery: number;
}

export interface RunRef {
  runId: string;
}
/** Start an RL run (`lab train`); `kind` may be left out. */
export interface RlStartRequest {
  kind?: 'rl';
  envId: string;
  agent: string;
  preset?: string;
  seed?: number;
  steps?: number;
}
/** Start a GAN run (`lab gan train`) on a Quick, Draw! category. */
export interface GanStartRequest {
  kind: 'gan';
  category: string;
  preset?: string;
  seed?: number;
  /** Iteration budget (default: the preset's). */
  iterations?: number;
}
export type StartRunRequest = RlStartRequest | GanStartRequest;
export interface FramesMessage {
  runId: string;
  frames: StepFrame[];
  /** Frames not delivered to this viewer (slow connection, or dropped upstream) since the last message. */
  dropped: number;
}
export interface MetricsMessage {
  runId: string;
  episodes: EpisodePoint[];
  evals: EvalPoint[];
  updates: UpdatePoint[];
  /** An AlphaZero-lite run's new evaluation matches (absent for other kinds). */
  matches?: MatchPoint[];
}
export interface ErrorMessage {
  event: string;
  error: string;
}

/** Trainer → server. */
export interface PublisherToServer {
  'publisher:hello': (payload: HelloPayload, ack?: AckFn<{ watch: WatchOrder }>) => void;
  'publisher:events': (payload: EventsPayload, ack?: AckFn) => void;
  'publisher:end': (payload: EndPayload, ack?: AckFn) => void;
}
/** Server → trainer. */
export interface ServerToPublisher {
  'publisher:watch': (order: WatchOrder) => void;
  'publisher:stop': (ref: RunRef) => void;
  'lab:error': (message: ErrorMessage) => void;
}
/** How many sample grids a run:watch ack carries at most (a grid is ~67 kB of base64). */
export const WATCH_SAMPLE_GRIDS = 16;
/** Viewer → server. */
export interface ViewerToServer {
  'runs:list': (payload: Record<string, never> | undefined, ack: AckFn<{ runs: RunSummary[] }>) => void;
  /** `samples`: a GAN run's sample grids so far, oldest first (at most WATCH_SAMPLE_GRIDS, thinned, the newest kept). */
  'run:watch': (payload: RunRef, ack: AckFn<{ run: RunSummary; history: RunHistory; frames: StepFrame[]; samples: SamplesEvent[] }>) => void;
  'run:unwatch': (payload: RunRef, ack?: AckFn) => void;
  'run:start': (payload: StartRunRequest, ack: AckFn<{ run: RunSummary }>) => void;
  'run:stop': (payload: RunRef, ack?: AckFn) => void;
  /** Plays a stored RL run's greedy policy live (`lab watch`, launched by the server) as a run of its own. */
  'run:watch-policy': (payload: RunRef, ack: AckFn<{ run: RunSummary }>) => void;
  'go:new': (payload: GoNewRequest, ack: AckFn<{ game: GoGameState }>) => void;
  'go:play': (payload: GoPlayRequest, ack: AckFn<{ game: GoGameState }>) => void;
  'go:resign': (payload: GoRef, ack?: AckFn<{ game: GoGameState }>) => void;
  'go:close': (payload: GoRef, ack?: AckFn) => void;
}
/** Server → viewer. */
export interface ServerToViewer {
  'runs:changed': (payload: { runs: RunSummary[] }) => void;
  'run:frames': (message: FramesMessage) => void;
  'run:metrics': (message: MetricsMessage) => void;
  /** The newest sample grid of a watched GAN run. */
  'run:samples': (message: { runId: string; samples: SamplesEvent }) => void;
  /** A Go game changed (the agent moved, or the game ended). */
  'go:state': (payload: { game: GoGameState }) => void;
  'lab:error': (message: ErrorMessage) => void;
}

// ---------------------------------------------------------------------------------------------------------
// Schemas: small validators that name the offending field ("events[3].frame.kind: expected one of …").

export type Check<T> = (value: unknown, path: string) => T;

export class SchemaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaError';
  }
}

function fail(path: string, what: string, value: unknown): never {
  const shown = value === undefined ? 'nothing' : typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
  throw new SchemaError(`${path || 'payload'}: expected ${what}, got ${shown}`);
}

export const s = {
  string(opts: { max?: number; pattern?: RegExp } = {}): Check<string> {
    const max = opts.max ?? 10_000;
    return (v, p) => {
      if (typeof v !== 'string') fail(p, 'a string', v);
      if (v.length > max) fail(p, `at most ${max} characters`, v);
      if (opts.pattern && !opts.pattern.test(v)) fail(p, `a string matching ${opts.pattern}`, v);
      return v;
    };
  },
  number(opts: { min?: number; max?: number } = {}): Check<number> {
    return (v, p) => {
      if (typeof v !== 'number' || !Number.isFinite(v)) fail(p, 'a finite number', v);
      if (opts.min !== undefined && v < opts.min) fail(p, `a number ≥ ${opts.min}`, v);
      if (opts.max !== undefined && v > opts.max) fail(p, `a number ≤ ${opts.max}`, v);
      return v;
    };
  },
  /** Numbers that may be NaN/±Infinity on the trainer side arrive as null over JSON. */
  numberOrNull(): Check<number | null> {
    return (v, p) => {
      if (v === null) return null;
      if (typeof v !== 'number') fail(p, 'a number or null', v);
      return v;
    };
  },
  int(opts: { min?: number; max?: number } = {}): Check<number> {
    return (v, p) => {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) fail(p, 'an integer', v);
      if (opts.min !== undefined && v < opts.min) fail(p, `an integer ≥ ${opts.min}`, v);
      if (opts.max !== undefined && v > opts.max) fail(p, `an integer ≤ ${opts.max}`, v);
      return v;
    };
  },
  boolean(): Check<boolean> {
    return (v, p) => {
      if (typeof v !== 'boolean') fail(p, 'true or false', v);
      return v;
    };
  },
  literal<T extends string | number | boolean>(...values: T[]): Check<T> {
    return (v, p) => {
      if (!values.includes(v as T)) fail(p, `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`, v);
      return v as T;
    };
  },
  nullable<T>(check: Check<T>): Check<T | null> {
    return (v, p) => (v === null ? null : check(v, p));
  },
  optional<T>(check: Check<T>): Check<T | undefined> {
    return (v, p) => (v === undefined ? undefined : check(v, p));
  },
  array<T>(check: Check<T>, opts: { max?: number; min?: number } = {}): Check<T[]> {
    const max = opts.max ?? 100_000;
    return (v, p) => {
      if (!Array.isArray(v)) fail(p, 'an array', v);
      if (v.length > max) throw new SchemaError(`${p || 'payload'}: expected at most ${max} items, got ${v.length}`);
      if (opts.min !== undefined && v.length < opts.min) throw new SchemaError(`${p || 'payload'}: expected at least ${opts.min} items, got ${v.length}`);
      return v.map((x, i) => check(x, `${p}[${i}]`));
    };
  },
  /** Plain JSON data of bounded size (frames, hyperparameters): checked for shape, not for meaning. */
  json(opts: { maxDepth?: number; maxItems?: number } = {}): Check<unknown> {
    const maxDepth = opts.maxDepth ?? 6;
    const maxItems = opts.maxItems ?? 20_000;
    return (v, p) => {
      let items = 0;
      const walk = (x: unknown, depth: number, at: string): void => {
        if (++items > maxItems) throw new SchemaError(`${at || 'payload'}: too large (more than ${maxItems} values)`);
        if (x === null || typeof x === 'string' || typeof x === 'boolean') return;
        if (typeof x === 'number') return;
        if (depth >= maxDepth) throw new SchemaError(`${at || 'payload'}: nested deeper than ${maxDepth} levels`);
        if (Array.isArray(x)) {
          x.forEach((y, i) => walk(y, depth + 1, `${at}[${i}]`));
          return;
        }
        if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
          for (const [k, y] of Object.entries(x)) {
            // JSON.parse makes `__proto__` an own key; merged into another object it would replace its prototype.
            if (k === '__proto__') throw new SchemaError(`${at ? `${at}.` : ''}__proto__: not allowed as a key`);
            walk(y, depth + 1, `${at}.${k}`);
          }
          return;
        }
        fail(at, 'plain JSON data', x);
      };
      walk(v, 0, p);
      return v;
    };
  },
  object<T extends object>(shape: { [K in keyof T]: Check<T[K]> }, opts: { allowExtra?: boolean } = {}): Check<T> {
    return (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(p, 'an object', v);
      // Own properties only, on both sides: an inherited `toString` is neither a field nor a value.
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(shape)) {
        const given = Object.hasOwn(v, key) ? (v as Record<string, unknown>)[key] : undefined;
        const checked = (shape as Record<string, Check<unknown>>)[key]!(given, p ? `${p}.${key}` : key);
        if (checked !== undefined) out[key] = checked;
      }
      if (!opts.allowExtra) {
        for (const key of Object.keys(v)) if (!Object.hasOwn(shape, key)) throw new SchemaError(`${p ? `${p}.${key}` : key}: unknown field`);
      }
      return out as T;
    };
  },
  /** Picks the schema by a discriminating string field. */
  tagged<T>(tag: string, variants: Record<string, Check<T>>): Check<T> {
    return (v, p) => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(p, 'an object', v);
      const kind = Object.hasOwn(v, tag) ? (v as Record<string, unknown>)[tag] : undefined;
      const check = typeof kind === 'string' && Object.hasOwn(variants, kind) ? variants[kind] : undefined;
      if (!check) fail(p ? `${p}.${tag}` : tag, `one of ${Object.keys(variants).map((x) => JSON.stringify(x)).join(', ')}`, kind);
      return check(v, p);
    };
  },
};

const runId = s.string({ pattern: RUN_ID_PATTERN });
const step = s.int({ min: 0 });
const time = s.number({ min: 0 });

/** Bounds of the generic frames plug-in envs send (their fields reach the viewer's renderers as they are). */
const perValue = s.optional(s.array(s.numberOrNull(), { max: VALUES_FRAME_MAX }));
const genericFrameSchemas = {
  text: s.object<TextFrame>({ kind: s.literal('text'), text: s.string({ max: TEXT_FRAME_MAX_CHARS + 100 }) }),
  values: s.object<ValuesFrame>({
    kind: s.literal('values'),
    values: s.array(s.numberOrNull(), { max: VALUES_FRAME_MAX }),
    labels: s.optional(s.array(s.string({ max: 200 }), { max: VALUES_FRAME_MAX })),
    low: perValue,
    high: perValue,
    title: s.optional(s.string({ max: 200 })),
  }),
};

export const frameSchema: Check<RenderFrame> = (v, p) => {
  const json = s.json({ maxDepth: 4, maxItems: 2000 })(v, p);
  const { kind } = s.object({ kind: s.literal(...FRAME_KINDS) }, { allowExtra: true })(json, p);
  if (kind === 'text') return genericFrameSchemas.text(json, p);
  if (kind === 'values') {
    const frame = genericFrameSchemas.values(json, p);
    for (const key of ['labels', 'low', 'high'] as const) {
      const given = frame[key];
      if (given && given.length !== frame.values.length) throw new SchemaError(`${p ? `${p}.` : ''}${key}: expected ${frame.values.length} entries (one per value), got ${given.length}`);
    }
    return frame;
  }
  return json as RenderFrame;
};

export const runInfoSchema = s.object<RunInfo>({
  runId,
  kind: s.literal(...RUN_KINDS),
  envId: s.string({ max: 200 }),
  agent: s.string({ max: 100 }),
  preset: s.nullable(s.string({ max: 100 })),
  seed: s.int({ min: 0 }),
  steps: s.int({ min: 1 }),
  episodes: s.nullable(s.int({ min: 1 })),
  numEnvs: s.int({ min: 1, max: 1_000_000 }),
  backend: s.string({ max: 50 }),
  fps: s.number({ min: 0.1, max: 1000 }),
  runDir: s.string({ max: 4096 }),
  startStep: step,
  hyperparameters: s.json({ maxDepth: 4, maxItems: 1000 }) as Check<Record<string, unknown>>,
});

/** An update's statistics: at most 64 named numbers (null for NaN), names of at most 64 characters. */
const updateStats: Check<Record<string, number>> = (v, p) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.getPrototypeOf(v) !== Object.prototype) fail(p, 'an object of numbers', v);
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length > 64) throw new SchemaError(`${p}: at most 64 statistics, got ${entries.length}`);
  for (const [k, x] of entries) {
    if (k.length > 64) throw new SchemaError(`${p}: statistic names have at most 64 characters, got one of ${k.length}`);
    if (x !== null && typeof x !== 'number') fail(`${p}.${k}`, 'a number or null', x);
  }
  return v as Record<string, number>;
};

/** Most numbers a Box action may have in a step event. */
export const MAX_ACTION_SIZE = 64;

/** A step's action: a Discrete index (integer ≥ 0) or a Box action's finite numbers (1 to MAX_ACTION_SIZE of them). */
const stepAction: Check<StepAction> = (v, p) => {
  if (Array.isArray(v)) {
    if (v.length === 0 || v.length > MAX_ACTION_SIZE) throw new SchemaError(`${p || 'payload'}: a Box action has 1 to ${MAX_ACTION_SIZE} numbers, got ${v.length}`);
    return v.map((x, i) => s.number()(x, `${p}[${i}]`));
  }
  return s.int({ min: 0 })(v, p);
};

// Checks of the AlphaZero records: every field, as the trainer writes them (the losses may be null: NaN).

const azCount = s.int({ min: 0 });
const azSeconds = s.number({ min: 0 });
/** A number written from NaN (null) reads back as NaN. */
const lossValue: Check<number> = (v, p) => s.numberOrNull()(v, p) ?? Number.NaN;

export const iterationEventSchema: Check<IterationEvent> = s.object<IterationEvent>(
  {
    type: s.literal('iteration'),
    iteration: s.int({ min: 1 }),
    games: azCount,
    positions: azCount,
    bufferSize: azCount,
    meanGameLength: s.number({ min: 0 }),
    blackWins: azCount,
    whiteWins: azCount,
    draws: azCount,
    policyLoss: lossValue,
    valueLoss: lossValue,
    policyEntropy: lossValue,
    selfPlaySeconds: azSeconds,
    trainSeconds: azSeconds,
    elapsed: azSeconds,
  },
  { allowExtra: true },
);

export const goEvalEventSchema: Check<GoEvalEvent> = (v, p) => {
  const e = s.object<GoEvalEvent>(
    { type: s.literal('go-eval'), iteration: s.int({ min: 0 }), opponent: s.string({ max: 100, pattern: /\S/ }), games: s.int({ min: 1 }), wins: azCount, losses: azCount, draws: azCount, score: s.number({ min: 0, max: 1 }) },
    { allowExtra: true },
  )(v, p);
  if (e.wins + e.losses + e.draws !== e.games) throw new SchemaError(`${p ? `${p}.` : ''}games: expected wins + losses + draws (${e.wins + e.losses + e.draws}), got ${e.games}`);
  return e;
};

/** The checks of the events RL and GAN trainers send and write, by type. */
const TRAIN_EVENT_CHECKS: Record<TrainEvent['type'], Check<TrainEvent>> = {
  step: s.object<StepEvent>({
    type: s.literal('step'),
    step,
    episode: s.int({ min: 1 }),
    episodeStep: s.int({ min: 1 }),
    action: stepAction,
    reward: s.number(),
    episodeReturn: s.number(),
    terminated: s.boolean(),
    truncated: s.boolean(),
    t: time,
    frame: s.nullable(frameSchema),
  }) as Check<TrainEvent>,
  episode: s.object<EpisodeEvent>({
    type: s.literal('episode'),
    step,
    episode: s.int({ min: 1 }),
    envIndex: s.int({ min: 0 }),
    return: s.number(),
    length: s.int({ min: 1 }),
    terminated: s.boolean(),
    truncated: s.boolean(),
    time,
  }) as Check<TrainEvent>,
  eval: s.object<EvalEvent>({
    type: s.literal('eval'),
    step,
    episodes: s.int({ min: 1 }),
    meanReturn: s.number(),
    stdReturn: s.number(),
    minReturn: s.number(),
    maxReturn: s.number(),
    meanLength: s.number(),
    returns: s.array(s.number(), { max: 100_000 }),
    seconds: time,
    time,
  }) as Check<TrainEvent>,
  update: s.object<UpdateEvent>({
    type: s.literal('update'),
    step,
    updates: s.int({ min: 0 }),
    stats: updateStats,
    sps: s.number({ min: 0 }),
    time,
  }) as Check<TrainEvent>,
  samples: ((v, p) => {
    const e = s.object<SamplesEvent>({
      type: s.literal('samples'),
      step,
      count: s.int({ min: 1, max: 256 }),
      width: s.int({ min: 1, max: 256 }),
      height: s.int({ min: 1, max: 256 }),
      pixels: s.string({ max: 4 * Math.ceil(MAX_GRID_PIXELS / 3), pattern: /^[A-Za-z0-9+/]*={0,2}$/ }),
      time,
    })(v, p);
    // One byte per pixel, base64: the length follows from the shape (a grid is never bigger than it says).
    const n = e.count * e.width * e.height;
    if (n > MAX_GRID_PIXELS) throw new SchemaError(`${p || 'payload'}: ${e.count} images of ${e.width}×${e.height} is more than ${MAX_GRID_PIXELS} pixels`);
    if (e.pixels.length !== 4 * Math.ceil(n / 3)) throw new SchemaError(`${p ? `${p}.pixels` : 'pixels'}: ${e.pixels.length} base64 characters, but ${e.count}×${e.width}×${e.height} pixels take ${4 * Math.ceil(n / 3)}`);
    return e;
  }) as Check<TrainEvent>,
  checkpoint: s.object<CheckpointEvent>({
    type: s.literal('checkpoint'),
    step,
    path: s.string({ max: 4096 }),
    time,
  }) as Check<TrainEvent>,
};

export const trainEventSchema: Check<TrainEvent> = s.tagged<TrainEvent>('type', TRAIN_EVENT_CHECKS);

/** What a publisher may send: an RL or GAN trainer's events, an AlphaZero-lite trainer's records. */
export const publishedEventSchema: Check<PublishedEvent> = s.tagged<PublishedEvent>('type', {
  ...TRAIN_EVENT_CHECKS,
  iteration: iterationEventSchema as Check<PublishedEvent>,
  'go-eval': goEvalEventSchema as Check<PublishedEvent>,
});

const startSeed = s.optional(s.int({ min: 0, max: 2 ** 31 - 1 })) as Check<number>;
const rlStartSchema = s.object<RlStartRequest>({
  kind: s.optional(s.literal('rl')) as Check<'rl'>,
  envId: s.string({ max: 200 }),
  agent: s.string({ max: 100 }),
  preset: s.optional(s.string({ max: 100 })) as Check<string>,
  seed: startSeed,
  steps: s.optional(s.int({ min: 1, max: 1e9 })) as Check<number>,
}) as Check<StartRunRequest>;
const ganStartSchema = s.object<GanStartRequest>({
  kind: s.literal('gan'),
  category: s.string({ max: 100 }),
  preset: s.optional(s.string({ max: 100 })) as Check<string>,
  seed: startSeed,
  iterations: s.optional(s.int({ min: 1, max: 1e7 })) as Check<number>,
}) as Check<StartRunRequest>;

export const schemas = {
  'publisher:hello': s.object<HelloPayload>({ protocol: s.int(), run: runInfoSchema }),
  'publisher:events': s.object<EventsPayload>({
    runId,
    events: s.array(publishedEventSchema, { max: MAX_EVENTS_PER_BATCH }),
    dropped: s.optional(s.int({ min: 0 })) as Check<number>,
  }),
  'publisher:end': s.object<EndPayload>({
    runId,
    status: s.literal('done', 'stopped', 'failed'),
    error: s.optional(s.string({ max: 10_000 })) as Check<string>,
  }),
  'runs:list': ((v, p) => (v === undefined || v === null ? {} : s.object({})(v, p))) as Check<Record<string, never>>,
  'run:watch': s.object<RunRef>({ runId }),
  'run:unwatch': s.object<RunRef>({ runId }),
  'run:stop': s.object<RunRef>({ runId }),
  'run:watch-policy': s.object<RunRef>({ runId }),
  'run:start': ((v, p) => {
    // RL requests may leave `kind` out (older viewers); anything else must name a known kind.
    const kind = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, 'kind') ? (v as Record<string, unknown>).kind : undefined;
    return kind === undefined ? rlStartSchema(v, p) : s.tagged<StartRunRequest>('kind', { rl: rlStartSchema, gan: ganStartSchema })(v, p);
  }) as Check<StartRunRequest>,
  'go:new': s.object<GoNewRequest>({
    size: s.int({ min: 5, max: 19 }),
    opponent: s.literal(...GO_OPPONENTS),
    humanColor: s.literal('black', 'white'),
    sims: s.optional(s.int({ min: 1, max: 200_000 })) as Check<number>,
    agent: s.optional(s.string({ pattern: RUN_ID_PATTERN })) as Check<string>,
    level: s.optional(s.int({ min: 0, max: 10 })) as Check<number>,
    komi: s.optional(s.number({ min: -400, max: 400 })) as Check<number>,
  }),
  'go:play': s.object<GoPlayRequest>({ gameId: s.string({ max: 100 }), move: s.int({ min: 0, max: 361 }) }),
  'go:resign': s.object<GoRef>({ gameId: s.string({ max: 100 }) }),
  'go:close': s.object<GoRef>({ gameId: s.string({ max: 100 }) }),
} satisfies Record<string, Check<unknown>>;

export type ValidatedEvent = keyof typeof schemas;

/** Validates a payload; returns the checked value or the error message. */
export function validate<E extends ValidatedEvent>(event: E, payload: unknown): { ok: true; value: ReturnType<(typeof schemas)[E]> } | { ok: false; error: string } {
  // The event name comes off the wire: only the table's own entries are schemas ("constructor" is not).
  if (typeof event !== 'string' || !Object.hasOwn(schemas, event)) return { ok: false, error: `unknown event ${JSON.stringify(String(event).slice(0, 100))}` };
  try {
    return { ok: true, value: schemas[event](payload, '') as ReturnType<(typeof schemas)[E]> };
  } catch (e) {
    if (e instanceof SchemaError) return { ok: false, error: `${event}: ${e.message}` };
    throw e;
  }
}

/** Converts a step event into the frame the viewer receives. */
export function toStepFrame(e: StepEvent): StepFrame {
  const { type: _type, ...frame } = e;
  return frame;
}

/** HTTP API paths (GET, JSON; read-only, confined to the runs directory). */
export const API = {
  health: '/api/health',
  /** What this page may do (SessionResponse): it holds the server's key or not. */
  session: '/api/session',
  catalog: '/api/catalog',
  runs: '/api/runs',
  run: (runId: string) => `/api/runs/${encodeURIComponent(runId)}`,
  runHistory: (runId: string) => `/api/runs/${encodeURIComponent(runId)}/history`,
  /** Replay logs of all runs; query `env`, `agent`, `run`, `mode` filter (exact match). */
  replays: '/api/replays',
  /** One replay log with its frames (regenerated by re-simulation when the log holds none). */
  replay: (runId: string, name: string) => `/api/runs/${encodeURIComponent(runId)}/replays/${encodeURIComponent(name)}`,
  /** `lab compare` over runs: query `runs` = comma-separated run ids; optional `groupBy`, `curve`. */
  compare: '/api/compare',
  /** Trained AlphaZero-lite agents a person can play in the viewer (GoAgentInfo[]). */
  goAgents: '/api/go/agents',
  /**
   * One file of a run's network in tfjs's Layers format (tf.loadLayersModel reads `<prefix>/model.json`):
   * `model` one of MODEL_DIRS, `file` one of MODEL_FILES. Binary for weights.bin, JSON otherwise.
   */
  modelFile: (runId: string, model: ModelDir, file: ModelFile) => `/api/runs/${encodeURIComponent(runId)}/models/${model}/${file}`,
  /** The networks a run holds now (ModelListResponse), so a page asks only for files that exist. */
  models: (runId: string) => `/api/runs/${encodeURIComponent(runId)}/models`,
} as const;

/** `GET API.models(runId)`: the MODEL_DIRS the run holds (each with a model.json `API.modelFile` serves). */
export interface ModelListResponse {
  models: ModelDir[];
  /** For each of `models`, the MODEL_FILES it holds: a page asks only for those (obs_normalization.json is PPO's). */
  files: Partial<Record<ModelDir, ModelFile[]>>;
}

/**
 * The networks a run may hold, as `API.modelFile` names them: an RL run's policy/ and best_policy/; a GAN run's
 * generator, the one `lab gan eval` uses (its final generator/, the weight average when the run kept one; else
 * the latest checkpoint's generator-ema/, else its generator/: a run stopped or still training), and
 * generator-ema (the run's own, else the latest checkpoint's).
 */
export const MODEL_DIRS = ['policy', 'best_policy', 'generator', 'generator-ema'] as const;
export type ModelDir = (typeof MODEL_DIRS)[number];
/** The files of a model directory the server hands out (lab/layers_model.ts writes them; PPO adds the last). */
export const MODEL_FILES = ['model.json', 'weights.bin', 'lab.json', 'obs_normalization.json'] as const;
export type ModelFile = (typeof MODEL_FILES)[number];

/** `GET /api/session`: what the asking page may do. */
export interface SessionResponse {
  /** The page holds the server's key (opened from the printed link): it may start and stop runs, play Go. */
  canStart: boolean;
  /** The server is reachable from other machines, so even reading needs the key. */
  keyForReading: boolean;
}

/** Replay log names: `eval-s<step>-e<j>.jsonl.gz` or `train-e<episode>.jsonl.gz`. */
export const REPLAY_NAME_PATTERN = /^(eval-s\d{10}-e\d{3}|train-e\d{7})\.jsonl\.gz$/;

/** A replay log as the Replays page lists it. */
export interface ReplaySummary {
  runId: string;
  name: string;
  mode: 'eval' | 'train';
  /** Evaluation: index j (its reset seed is `seed`); training: 0-based episode id of sub-env 0. */
  episode: number;
  envId: string;
  agent: string | null;
  preset: string | null;
  /** Reset seed (evaluation episodes); episodes of different runs with the same env and seed start alike. */
  seed: number | null;
  /** Training env step of the policy that acted. */
  checkpointStep: number | null;
  return: number;
  length: number;
  terminated: boolean;
  truncated: boolean;
  createdAt: string;
  bytes: number;
}

/** A run (name null) or one of its replay logs (name set) that could not be read, and why (names relative to the run). */
export interface DamagedEntry {
  runId: string;
  name: string | null;
  error: string;
}

/** `GET API.replays` with the damaged runs and logs it left out. */
export interface ReplayListing {
  replays: ReplaySummary[];
  damaged: DamagedEntry[];
}

/** One replay log, ready to play: `frames[0]` is the state after reset, `frames[k]` the one after step k. */
export interface ReplayDetail {
  summary: ReplaySummary;
  fps: number;
  steps: { a: number | number[]; r: number; term: boolean; trunc: boolean }[];
  frames: (RenderFrame | string)[];
  /** The log held no frames: they were regenerated by re-simulating its actions. */
  regenerated: boolean;
}

export interface HealthResponse {
  ok: true;
  version: string;
  protocol: number;
  runsDir: string;
}

/** Names of properties every object inherits (and `prototype`): never a key of ours (they would reach prototypes). */
export function isReservedKey(key: string): boolean {
  return key === 'prototype' || Object.hasOwn(Object.prototype, key);
}
