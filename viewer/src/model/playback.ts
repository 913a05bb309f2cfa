/**
 * Frame buffer and playback state machine of the live view (pure, no DOM, no Pixi).
 *
 * The buffer splits the stream of step frames into episodes and keeps at most `maxFrames` of them. The
 * player picks the frame to draw on every animation tick:
 *   live      follows training as fast as it produces frames: frames arrive in bursts (the trainer batches
 *             them, and pauses for gradient updates), so the player drains them at a smoothed rate that
 *             keeps it about `liveLagMs` behind the newest frame, and jumps ahead when it falls further behind;
 *   1×…16×    the current episode at the env's fps × speed; at its end (after a short hold on the final
 *             frame) it jumps to the newest episode in the buffer, skipping the ones in between;
 *   paused    the same frame until play or a single step.
 *
 * An EpisodeLoop feeds the player recorded episodes (a finished run's evaluation replays) one after another,
 * round and round, so that they play through the same player, controls and stage as live frames.
 */
import type { StepFrame } from '../../../protocol/protocol.js';

export type Speed = 'live' | 1 | 2 | 4 | 16;
export const SPEEDS: readonly Speed[] = ['live', 1, 2, 4, 16];

/** The `speed-select` option values: 'live', '1', '2', '4', '16'. */
export function parseSpeed(value: string): Speed | null {
  if (value === 'live') return 'live';
  const n = Number(value);
  return (SPEEDS as readonly unknown[]).includes(n) ? (n as Speed) : null;
}

export interface BufferedEpisode {
  /** Increasing position of the episode in the stream. */
  readonly seq: number;
  /** Frames of the episode still held (the oldest may have been trimmed). */
  frames: StepFrame[];
  /** Frames removed from the front to keep the buffer bounded. */
  trimmed: number;
  /** The final frame (terminated or truncated) arrived. */
  ended: boolean;
}

/** Whether `next` starts a new episode after `prev` (robust to dropped frames and vector envs). */
export function startsEpisode(prev: StepFrame | undefined, next: StepFrame): boolean {
  if (!prev) return true;
  if (prev.terminated || prev.truncated) return true;
  if (next.episodeStep <= prev.episodeStep) return true;
  // With several sub-envs the trainer's episode counter moves while sub-env 0 plays on, so a changed
  // number alone is no boundary; with a gap in the steps as well, frames in between were dropped.
  return next.episode !== prev.episode && next.episodeStep !== prev.episodeStep + 1;
}

export class FrameBuffer {
  readonly episodes: BufferedEpisode[] = [];
  private nextSeq = 0;
  private count = 0;

  constructor(readonly maxFrames = 20_000) {
    if (!(maxFrames >= 2)) throw new Error(`FrameBuffer: maxFrames must be at least 2, got ${maxFrames}`);
  }

  /** Frames held. */
  get size(): number {
    return this.count;
  }

  newest(): BufferedEpisode | undefined {
    return this.episodes[this.episodes.length - 1];
  }

  newestFrame(): StepFrame | undefined {
    const ep = this.newest();
    return ep?.frames[ep.frames.length - 1];
  }

  get(seq: number): BufferedEpisode | undefined {
    const eps = this.episodes;
    let lo = 0;
    let hi = eps.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const s = eps[mid]!.seq;
      if (s === seq) return eps[mid];
      if (s < seq) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /**
   * Appends frames. `pin` is the player's position: pruning keeps its episode, and trims that episode
   * only before it.
   */
  push(frames: readonly StepFrame[], pin?: Readonly<Cursor> | null): void {
    for (const f of frames) {
      let ep = this.newest();
      if (!ep || startsEpisode(ep.frames[ep.frames.length - 1], f)) {
        ep = { seq: this.nextSeq++, frames: [], trimmed: 0, ended: false };
        this.episodes.push(ep);
      }
      ep.frames.push(f);
      if (f.terminated || f.truncated) ep.ended = true;
      this.count++;
    }
    this.prune(pin ?? null);
  }

  clear(): void {
    this.episodes.length = 0;
    this.count = 0;
  }

  private prune(pin: Readonly<Cursor> | null): void {
    if (this.count <= this.maxFrames) return;
    // Whole episodes first, oldest first, never the pinned one nor the newest.
    const keep: BufferedEpisode[] = [];
    const last = this.episodes.length - 1;
    for (let i = 0; i < this.episodes.length; i++) {
      const ep = this.episodes[i]!;
      if (this.count > this.maxFrames && i !== last && ep.seq !== pin?.seq) {
        this.count -= ep.frames.length;
      } else keep.push(ep);
    }
    this.episodes.splice(0, this.episodes.length, ...keep);
    if (this.count <= this.maxFrames) return;
    // Still too many (very long episodes): cut the fronts, with some slack so that this does not run on
    // every push; the pinned episode last, and only the frames before the player's position.
    const target = Math.floor(this.maxFrames * 0.9);
    const order = [...this.episodes.filter((e) => e.seq !== pin?.seq), ...this.episodes.filter((e) => e.seq === pin?.seq)];
    for (const ep of order) {
      if (this.count <= target) break;
      const limit = ep.seq === pin?.seq ? pin.abs - ep.trimmed : ep.frames.length - 1;
      const cut = Math.min(limit, this.count - target);
      if (cut <= 0) continue;
      ep.frames.splice(0, cut);
      ep.trimmed += cut;
      this.count -= cut;
    }
  }
}

/** Where the player is: an episode and the index of a frame in it, counting trimmed frames. */
export interface Cursor {
  seq: number;
  abs: number;
}

export interface PlayerStatus {
  mode: 'live' | 'playback';
  paused: boolean;
  /** The frame shown. */
  frame: StepFrame | null;
  /** Newest frame in the buffer (what training is at). */
  newest: StepFrame | null;
  /** Playing an episode older than the newest one. */
  behind: boolean;
  /** At the end of the frames received so far, waiting for more. */
  waiting: boolean;
}

export interface PlayerOptions {
  /** Wall-clock ms to hold the final frame of an episode before jumping on (non-live modes). */
  endHoldMs?: number;
  /** Live mode: how far (ms of frames) the player aims to stay behind the newest frame. */
  liveLagMs?: number;
  /** Live mode: time constant (ms) of the playback-rate smoothing. */
  liveSmoothMs?: number;
  /** Live mode: jump to the newest frame when this far behind it (ms, by the frames' timestamps). */
  liveMaxBehindMs?: number;
}

export class Player {
  speed: Speed = 'live';
  paused = false;
  /** Env frames per second at 1× (the env's render fps). */
  fps = 30;
  private cursor: Cursor | null = null;
  private acc = 0;
  private holdLeft = 0;
  private waiting = false;
  /** Live mode: smoothed playback rate (frames/s). */
  private liveRate = 0;
  readonly endHoldMs: number;
  readonly liveLagMs: number;
  readonly liveSmoothMs: number;
  readonly liveMaxBehindMs: number;

  constructor(
    readonly buffer: FrameBuffer,
    options: PlayerOptions = {},
  ) {
    this.endHoldMs = options.endHoldMs ?? 350;
    this.liveLagMs = options.liveLagMs ?? 250;
    this.liveSmoothMs = options.liveSmoothMs ?? 300;
    this.liveMaxBehindMs = options.liveMaxBehindMs ?? 1500;
  }

  /** Adds received frames, keeping the played episode in the buffer. */
  push(frames: readonly StepFrame[]): void {
    this.buffer.push(frames, this.cursor);
  }

  reset(): void {
    this.buffer.clear();
    this.cursor = null;
    this.acc = 0;
    this.holdLeft = 0;
    this.waiting = false;
    this.liveRate = 0;
  }

  setSpeed(speed: Speed): void {
    if (speed === this.speed) return;
    this.speed = speed;
    this.acc = 0;
    this.holdLeft = 0;
    if (speed === 'live' && !this.paused) this.jumpToNewestEnd();
  }

  setPaused(paused: boolean): void {
    if (paused === this.paused) return;
    this.paused = paused;
    this.acc = 0;
    if (!paused && this.speed === 'live') this.jumpToNewestEnd();
  }

  togglePause(): void {
    this.setPaused(!this.paused);
  }

  /** The frame at the cursor (null when the buffer is empty). */
  current(): StepFrame | null {
    const c = this.resolve();
    if (!c) return null;
    const ep = this.buffer.get(c.seq)!;
    return ep.frames[c.abs - ep.trimmed] ?? null;
  }

  cursorPosition(): Readonly<Cursor> | null {
    return this.resolve();
  }

  /** Advances by `dtMs` of wall-clock time and returns the frame to draw. */
  tick(dtMs: number): StepFrame | null {
    const newest = this.buffer.newest();
    if (!newest || newest.frames.length === 0) {
      this.cursor = null;
      this.waiting = false;
      return null;
    }
    if (this.paused) {
      this.resolve();
      return this.current();
    }
    const dt = Math.max(0, Math.min(dtMs, 250));
    if (this.speed === 'live') return this.tickLive(dt);
    if (!this.resolve()) this.cursor = { seq: newest.seq, abs: newest.trimmed };
    if (this.holdLeft > 0) {
      this.holdLeft -= dt;
      if (this.holdLeft <= 0) {
        this.holdLeft = 0;
        this.jumpToNewest();
      }
      return this.current();
    }
    this.acc += (dt / 1000) * this.fps * this.speed;
    this.waiting = false;
    while (this.acc >= 1) {
      const moved = this.advance();
      if (moved === 'moved') {
        this.acc -= 1;
        continue;
      }
      if (moved === 'wait') {
        this.waiting = true;
        this.acc = Math.min(this.acc, 1);
      } else {
        // End of a finished episode with a newer one available.
        this.acc = 0;
        if (this.endHoldMs > 0) this.holdLeft = this.endHoldMs;
        else this.jumpToNewest();
      }
      break;
    }
    return this.current();
  }

  /** Single step: pauses, then shows the next frame (at an episode's end, the newest episode's first). */
  step(): StepFrame | null {
    this.paused = true;
    this.holdLeft = 0;
    this.acc = 0;
    if (!this.resolve()) {
      const newest = this.buffer.newest();
      if (!newest) return null;
      this.cursor = { seq: newest.seq, abs: newest.trimmed };
      return this.current();
    }
    if (this.advance() === 'end') this.jumpToNewest();
    return this.current();
  }

  status(): PlayerStatus {
    const frame = this.current();
    const newestEp = this.buffer.newest();
    const c = this.resolve();
    return {
      mode: this.speed === 'live' ? 'live' : 'playback',
      paused: this.paused,
      frame,
      newest: this.buffer.newestFrame() ?? null,
      behind: !!c && !!newestEp && c.seq !== newestEp.seq,
      waiting: this.waiting && !this.paused,
    };
  }

  /** Frames after the cursor up to the newest one (across episodes). */
  pendingFrames(): number {
    const c = this.resolve();
    if (!c) return 0;
    let n = 0;
    for (let i = this.buffer.episodes.length - 1; i >= 0; i--) {
      const ep = this.buffer.episodes[i]!;
      if (ep.seq < c.seq) break;
      n += ep.seq === c.seq ? ep.trimmed + ep.frames.length - 1 - c.abs : ep.frames.length;
    }
    return n;
  }

  private tickLive(dt: number): StepFrame | null {
    this.waiting = false;
    const c = this.resolve();
    const newestFrame = this.buffer.newestFrame();
    const cur = this.current();
    if (!c || !newestFrame || !cur) return cur;
    if (newestFrame.t - cur.t > this.liveMaxBehindMs) {
      this.jumpToNewestEnd();
      this.liveRate = 0;
      this.acc = 0;
      return this.current();
    }
    const pending = this.pendingFrames();
    const target = pending / (this.liveLagMs / 1000);
    this.liveRate += (target - this.liveRate) * (1 - Math.exp(-dt / this.liveSmoothMs));
    this.acc += (Math.max(0, this.liveRate) * dt) / 1000;
    const n = Math.min(Math.floor(this.acc), pending);
    this.acc -= n;
    if (n === pending) this.acc = Math.min(this.acc, 1);
    this.forward(n);
    return this.current();
  }

  /** Moves `n` frames forward through the buffer, crossing into the following episodes in order. */
  private forward(n: number): void {
    let left = n;
    while (left > 0) {
      const c = this.resolve();
      if (!c) return;
      const ep = this.buffer.get(c.seq)!;
      const lastAbs = ep.trimmed + ep.frames.length - 1;
      const inEpisode = Math.min(left, lastAbs - c.abs);
      c.abs += inEpisode;
      left -= inEpisode;
      if (left === 0) return;
      const i = this.buffer.episodes.indexOf(ep);
      const next = this.buffer.episodes[i + 1];
      if (!next) return;
      this.cursor = { seq: next.seq, abs: next.trimmed };
      left--;
    }
  }

  private jumpToNewestEnd(): void {
    const newest = this.buffer.newest();
    this.cursor = newest ? { seq: newest.seq, abs: newest.trimmed + newest.frames.length - 1 } : null;
  }

  /** Moves one frame forward within the episode: 'moved', 'wait' (no frame yet) or 'end' (finished, newer exists). */
  private advance(): 'moved' | 'wait' | 'end' {
    const c = this.resolve();
    if (!c) return 'wait';
    const ep = this.buffer.get(c.seq)!;
    const lastAbs = ep.trimmed + ep.frames.length - 1;
    if (c.abs < lastAbs) {
      c.abs++;
      return 'moved';
    }
    const newest = this.buffer.newest()!;
    return newest.seq === ep.seq ? 'wait' : 'end';
  }

  private jumpToNewest(): void {
    const newest = this.buffer.newest();
    this.cursor = newest ? { seq: newest.seq, abs: newest.trimmed } : null;
  }

  /** Validates the cursor against the buffer (episodes pruned, frames trimmed); null when empty. */
  private resolve(): Cursor | null {
    const newest = this.buffer.newest();
    if (!newest) {
      this.cursor = null;
      return null;
    }
    const c = this.cursor;
    const ep = c ? this.buffer.get(c.seq) : undefined;
    if (!c || !ep || ep.frames.length === 0) {
      this.cursor = this.speed === 'live' ? { seq: newest.seq, abs: newest.trimmed + newest.frames.length - 1 } : { seq: newest.seq, abs: newest.trimmed };
      return this.cursor;
    }
    const lastAbs = ep.trimmed + ep.frames.length - 1;
    if (c.abs < ep.trimmed) c.abs = ep.trimmed;
    if (c.abs > lastAbs) c.abs = lastAbs;
    return c;
  }
}

/** An episode an EpisodeLoop plays: its step frames and what it is (a badge's text, say). */
export interface LoopItem<T> {
  frames: readonly StepFrame[];
  tag: T;
}

/**
 * Plays recorded episodes on a Player in turn, forever: the first when started, and each next one once the
 * player has stood on the last frame of the one before for `gapMs` of play (paused time does not count). The
 * player then jumps to it as it jumps to a newer live episode. Call `tick` before the player's own tick.
 */
export class EpisodeLoop<T> {
  /** The item of each episode pushed, by its buffer seq. */
  private readonly pushed = new Map<number, number>();
  private next = 0;
  private atEndMs = 0;

  constructor(
    readonly items: readonly LoopItem<T>[],
    readonly gapMs = 900,
  ) {
    if (items.length === 0) throw new Error('EpisodeLoop: no episodes to play');
    if (items.some((it) => it.frames.length === 0)) throw new Error('EpisodeLoop: an episode without frames');
  }

  /** Empties the player and plays the first episode, at real time (live makes no sense for recordings). */
  start(player: Player): void {
    player.reset();
    if (player.speed === 'live') player.setSpeed(1);
    player.setPaused(false);
    this.pushed.clear();
    this.next = 0;
    this.atEndMs = 0;
    this.pushNext(player);
  }

  /** Advances the loop by `dtMs` of wall-clock time: queues the next episode once the current one has ended. */
  tick(player: Player, dtMs: number): void {
    if (player.paused || !this.atNewestEnd(player)) {
      if (!player.paused) this.atEndMs = 0;
      return;
    }
    this.atEndMs += Math.max(0, dtMs);
    if (this.atEndMs >= this.gapMs) this.pushNext(player);
  }

  /** For a single step at the end of the last episode queued: queues the next one now, so that the step enters it. */
  stepNeedsNext(player: Player): void {
    if (this.atNewestEnd(player)) this.pushNext(player);
  }

  /** The item on screen (null before start). */
  current(player: Player): T | null {
    const c = player.cursorPosition();
    const i = c ? this.pushed.get(c.seq) : undefined;
    return i === undefined ? null : this.items[i]!.tag;
  }

  /** Index of the item on screen, and how many there are. */
  position(player: Player): { index: number; count: number } | null {
    const c = player.cursorPosition();
    const i = c ? this.pushed.get(c.seq) : undefined;
    return i === undefined ? null : { index: i, count: this.items.length };
  }

  private atNewestEnd(player: Player): boolean {
    const c = player.cursorPosition();
    const newest = player.buffer.newest();
    if (!c || !newest || c.seq !== newest.seq) return false;
    return c.abs === newest.trimmed + newest.frames.length - 1;
  }

  private pushNext(player: Player): void {
    const i = this.next;
    this.next = (this.next + 1) % this.items.length;
    this.atEndMs = 0;
    player.push(this.items[i]!.frames);
    const seq = player.buffer.newest()!.seq;
    this.pushed.set(seq, i);
    // Forget episodes the buffer has dropped.
    for (const s of this.pushed.keys()) if (!player.buffer.get(s)) this.pushed.delete(s);
  }
}
