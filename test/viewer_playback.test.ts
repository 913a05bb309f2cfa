/** Viewer playback model: episode splitting, the bounded buffer, live following and the playback speeds. */
import { describe, expect, it } from 'vitest';
import type { StepFrame } from '../protocol/protocol.js';
import { EpisodeLoop, FrameBuffer, parseSpeed, Player, SPEEDS, startsEpisode } from '../viewer/src/model/playback.js';

let clock = 1_000_000;

/** Frames of one episode: `length` steps, the last one terminated unless `open`. */
function episode(n: number, length: number, opts: { open?: boolean; from?: number; stepBase?: number } = {}): StepFrame[] {
  const from = opts.from ?? 1;
  const frames: StepFrame[] = [];
  for (let s = from; s <= length; s++) {
    frames.push({
      step: (opts.stepBase ?? n * 1000) + s,
      episode: n,
      episodeStep: s,
      action: s % 2,
      reward: 1,
      episodeReturn: s,
      terminated: !opts.open && s === length,
      truncated: false,
      t: (clock += 2),
      frame: null,
    });
  }
  return frames;
}

describe('startsEpisode', () => {
  const f = (episode: number, episodeStep: number, extra: Partial<StepFrame> = {}): StepFrame => ({ step: 0, episode, episodeStep, action: 0, reward: 0, episodeReturn: 0, terminated: false, truncated: false, t: 0, frame: null, ...extra });

  it('splits after a final frame and when the step counter goes back', () => {
    expect(startsEpisode(undefined, f(1, 1))).toBe(true);
    expect(startsEpisode(f(1, 5, { terminated: true }), f(2, 1))).toBe(true);
    expect(startsEpisode(f(1, 5, { truncated: true }), f(2, 1))).toBe(true);
    expect(startsEpisode(f(1, 5), f(1, 6))).toBe(false);
    expect(startsEpisode(f(1, 5), f(1, 9))).toBe(false); // frames dropped inside an episode
    expect(startsEpisode(f(3, 40), f(7, 2))).toBe(true); // final frame dropped, next episode
  });

  it('keeps one episode when a vector env moves the episode counter on the way', () => {
    expect(startsEpisode(f(10, 7), f(12, 8))).toBe(false);
    expect(startsEpisode(f(10, 7), f(12, 15))).toBe(true);
  });
});

describe('FrameBuffer', () => {
  it('groups frames into episodes and finds them by sequence number', () => {
    const b = new FrameBuffer(1000);
    b.push([...episode(1, 10), ...episode(2, 5), ...episode(3, 3, { open: true })]);
    expect(b.episodes.map((e) => e.frames.length)).toEqual([10, 5, 3]);
    expect(b.episodes.map((e) => e.ended)).toEqual([true, true, false]);
    expect(b.size).toBe(18);
    expect(b.get(1)?.frames[0]?.episode).toBe(2);
    expect(b.get(7)).toBeUndefined();
    expect(b.newestFrame()?.episodeStep).toBe(3);
    // The open episode continues across pushes.
    b.push(episode(3, 6, { from: 4 }));
    expect(b.episodes).toHaveLength(3);
    expect(b.newest()?.frames).toHaveLength(6);
    expect(b.newest()?.ended).toBe(true);
  });

  it('drops the oldest whole episodes past its bound, but keeps the pinned and the newest', () => {
    const b = new FrameBuffer(100);
    b.push(episode(1, 40));
    b.push(episode(2, 40));
    b.push(episode(3, 40), { seq: 0, abs: 0 }); // episode 1 (seq 0) is pinned
    expect(b.episodes.map((e) => e.seq)).toEqual([0, 2]);
    expect(b.size).toBe(80);
    b.push(episode(4, 40)); // nothing pinned now
    expect(b.episodes.map((e) => e.seq)).toEqual([2, 3]);
    expect(b.size).toBe(80);
  });

  it('trims the front of a very long episode and counts what it trimmed', () => {
    const b = new FrameBuffer(100);
    b.push(episode(1, 250, { open: true }));
    const ep = b.newest()!;
    expect(b.size).toBeLessThanOrEqual(100);
    expect(ep.trimmed + ep.frames.length).toBe(250);
    expect(ep.frames[0]!.episodeStep).toBe(ep.trimmed + 1);
    expect(ep.frames.at(-1)!.episodeStep).toBe(250);
  });

  it('rejects a useless bound', () => {
    expect(() => new FrameBuffer(1)).toThrow(/at least 2/);
  });
});

describe('Player', () => {
  it('parses the speed-select values', () => {
    expect(SPEEDS).toEqual(['live', 1, 2, 4, 16]);
    expect(['live', '1', '2', '4', '16'].map(parseSpeed)).toEqual(['live', 1, 2, 4, 16]);
    expect(parseSpeed('3')).toBeNull();
    expect(parseSpeed('')).toBeNull();
  });

  it('shows nothing until frames arrive', () => {
    const p = new Player(new FrameBuffer(1000));
    expect(p.tick(16)).toBeNull();
    expect(p.status().frame).toBeNull();
  });

  it('live: starts at the newest frame and drains bursts smoothly, ending on the newest', () => {
    const p = new Player(new FrameBuffer(10_000), { liveLagMs: 250, liveSmoothMs: 300 });
    p.push(episode(1, 10, { open: true }));
    expect(p.tick(16)?.episodeStep).toBe(10);
    // A burst of 200 frames: the player must not jump straight to the end …
    p.push(episode(1, 210, { from: 11, open: true }));
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) seen.push(p.tick(16)!.episodeStep);
    expect(seen[0]).toBeLessThan(60);
    // … it moves forward monotonically, never backwards …
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(seen.at(-1)!).toBeGreaterThan(10);
    // … and reaches the newest frame within a couple of seconds.
    for (let i = 0; i < 150; i++) p.tick(16);
    expect(p.current()?.episodeStep).toBe(210);
    expect(p.pendingFrames()).toBe(0);
  });

  it('live: crosses into the next episode and jumps ahead when too far behind', () => {
    const p = new Player(new FrameBuffer(10_000), { liveMaxBehindMs: 1000 });
    p.push(episode(1, 5));
    p.tick(16);
    p.push(episode(2, 50, { open: true }));
    for (let i = 0; i < 200; i++) p.tick(16);
    expect(p.current()?.episode).toBe(2);
    expect(p.current()?.episodeStep).toBe(50);
    // 5 s of frames arrive at once (t advances 2 ms per frame in these fixtures): more than 1 s behind.
    p.push(episode(2, 3000, { from: 51, open: true }));
    p.tick(16);
    expect(p.current()?.episodeStep).toBe(3000);
  });

  it('pause freezes the frame; single step advances one frame and pauses', () => {
    const p = new Player(new FrameBuffer(1000));
    p.push(episode(1, 20, { open: true }));
    p.tick(16);
    p.setPaused(true);
    const frozen = p.tick(16);
    p.push(episode(1, 40, { from: 21, open: true }));
    expect(p.tick(500)).toBe(frozen);
    expect(p.step()?.episodeStep).toBe(frozen!.episodeStep + 1);
    expect(p.paused).toBe(true);
    // Resuming live jumps to the newest frame.
    p.setPaused(false);
    expect(p.tick(16)?.episodeStep).toBe(40);
  });

  it('real time: plays the episode at the env fps, holds the final frame, then jumps to the newest episode', () => {
    const p = new Player(new FrameBuffer(10_000), { endHoldMs: 300 });
    p.fps = 50;
    p.setSpeed(1);
    p.push(episode(1, 30));
    expect(p.tick(0)?.episodeStep).toBe(1);
    // 50 fps: 200 ms = 10 frames.
    expect(p.tick(200)?.episodeStep).toBe(11);
    p.push(episode(2, 10));
    p.push(episode(3, 100, { open: true }));
    expect(p.status().behind).toBe(true);
    expect(p.tick(200)?.episodeStep).toBe(21);
    expect(p.tick(200)?.episodeStep).toBe(30); // the final frame
    expect(p.tick(100)?.episode).toBe(1); // held
    expect(p.tick(100)?.episode).toBe(1);
    const next = p.tick(150)!; // hold over: the newest episode (3), from its first frame; 2 is skipped
    expect(next.episode).toBe(3);
    expect(next.episodeStep).toBe(1);
    expect(p.status().behind).toBe(false);
  });

  it('16×: waits at the end of an episode still in progress', () => {
    const p = new Player(new FrameBuffer(10_000));
    p.fps = 10;
    p.setSpeed(16);
    p.push(episode(1, 20, { open: true }));
    p.tick(0);
    expect(p.tick(100)?.episodeStep).toBe(17); // 16 frames in 100 ms
    expect(p.tick(1000)?.episodeStep).toBe(20);
    expect(p.status().waiting).toBe(true);
    p.push(episode(1, 25, { from: 21, open: true }));
    // Resumes at once: one frame was due while it waited, plus 1.6 frames for these 10 ms.
    expect(p.tick(10)?.episodeStep).toBe(22);
  });

  it('keeps the episode it plays while the buffer overflows', () => {
    const p = new Player(new FrameBuffer(200));
    p.fps = 50;
    p.setSpeed(1);
    p.push(episode(1, 150));
    p.tick(0);
    for (let i = 0; i < 5; i++) p.tick(200); // 1 s at 50 fps: frame 51 (one tick never counts more than 250 ms)
    for (let n = 2; n < 10; n++) p.push(episode(n, 150));
    expect(p.current()?.episode).toBe(1);
    expect(p.current()?.episodeStep).toBe(51);
    expect(p.buffer.size).toBeLessThanOrEqual(300);
    // Frames before the position may go; the position itself and what follows stay.
    expect(p.buffer.episodes[0]!.trimmed).toBeLessThanOrEqual(50);
  });
});

describe('EpisodeLoop: recorded episodes round and round through the player', () => {
  /** A replay's step frames (as replayStepFrames makes them: episodeStep from 0, t = 0). */
  const recorded = (n: number, length: number): StepFrame[] =>
    Array.from({ length: length + 1 }, (_, k) => ({ step: k, episode: n, episodeStep: k, action: 0, reward: k > 0 ? 1 : 0, episodeReturn: k, terminated: k === length, truncated: false, t: 0, frame: null }));

  it('plays each episode to its end, waits the gap, then the next, and back to the first', () => {
    const player = new Player(new FrameBuffer(1000), { endHoldMs: 100 });
    player.fps = 10; // 100 ms a frame
    const loop = new EpisodeLoop([
      { frames: recorded(0, 3), tag: 'best' },
      { frames: recorded(1, 2), tag: 'latest' },
    ], 500);
    loop.start(player);
    expect(player.speed).toBe(1);
    const seen: string[] = [];
    for (let t = 0; t < 8000; t += 50) {
      loop.tick(player, 50);
      const f = player.tick(50);
      const tag = loop.current(player);
      const key = `${tag}:${f!.episodeStep}`;
      if (seen.at(-1) !== key) seen.push(key);
    }
    // best: 0..3, latest: 0..2, best again…
    expect(seen.slice(0, 9)).toEqual(['best:0', 'best:1', 'best:2', 'best:3', 'latest:0', 'latest:1', 'latest:2', 'best:0', 'best:1']);
    expect(loop.position(player)).toMatchObject({ count: 2 });
  });

  it('holds the final frame for the gap before the next episode (play time only: pausing stops the clock)', () => {
    const player = new Player(new FrameBuffer(1000), { endHoldMs: 0 });
    player.fps = 1000;
    const loop = new EpisodeLoop([{ frames: recorded(0, 2), tag: 'only' }], 400);
    loop.start(player);
    for (let i = 0; i < 5; i++) {
      loop.tick(player, 10);
      player.tick(10);
    }
    expect(player.current()!.episodeStep).toBe(2); // at the end since the first tick: 40 ms of the gap gone
    player.setPaused(true);
    for (let i = 0; i < 100; i++) loop.tick(player, 10); // a second paused: no next episode
    expect(player.buffer.episodes).toHaveLength(1);
    player.setPaused(false);
    for (let i = 0; i < 35; i++) loop.tick(player, 10); // 390 ms
    expect(player.buffer.episodes).toHaveLength(1);
    loop.tick(player, 10);
    expect(player.buffer.episodes).toHaveLength(2); // the same episode again, as a new one
    player.tick(10);
    expect(player.current()!.episodeStep).toBe(0);
    expect(loop.current(player)).toBe('only');
  });

  it('a single step past the end enters the next episode', () => {
    const player = new Player(new FrameBuffer(1000));
    const loop = new EpisodeLoop([
      { frames: recorded(0, 1), tag: 'a' },
      { frames: recorded(1, 1), tag: 'b' },
    ]);
    loop.start(player);
    loop.stepNeedsNext(player); // not at the end yet: nothing queued
    expect(player.step()!.episodeStep).toBe(1);
    loop.stepNeedsNext(player);
    expect(player.step()!.episodeStep).toBe(0);
    expect(loop.current(player)).toBe('b');
  });

  it('keeps the buffer bounded over many rounds and refuses empty input', () => {
    const player = new Player(new FrameBuffer(50), { endHoldMs: 0 });
    player.fps = 1000;
    const loop = new EpisodeLoop([{ frames: recorded(0, 20), tag: 'x' }], 0);
    loop.start(player);
    for (let i = 0; i < 2000; i++) {
      loop.tick(player, 10);
      player.tick(10);
    }
    expect(player.buffer.size).toBeLessThanOrEqual(50);
    expect(loop.current(player)).toBe('x');
    expect(() => new EpisodeLoop([])).toThrow(/no episodes/);
    expect(() => new EpisodeLoop([{ frames: [], tag: 1 }])).toThrow(/without frames/);
  });
});
