import { describe, expect, it } from 'vitest';
import { SnakeAction as A, SnakeEnv, type SnakeCell, type SnakeState } from '../envs/snake.js';
import type { SnakeFrame } from '../envs/frames.js';
import { Rng } from '../envs/utils/seeding.js';

const { TurnLeft: LEFT, Straight: STRAIGHT, TurnRight: RIGHT } = A;

/** Index of (r, c, channel) in the HWC observation. */
const at = (env: SnakeEnv, r: number, c: number, k: number) => (r * env.cols + c) * 3 + k;

/** The k-th free cell in row-major order: how the env places fruit. */
function kthFree(rows: number, cols: number, snake: SnakeCell[], k: number): SnakeCell {
  const taken = new Set(snake.map(([r, c]) => r * cols + c));
  for (let i = 0; i < rows * cols; i++) {
    if (!taken.has(i) && k-- === 0) return [Math.floor(i / cols), i % cols];
  }
  throw new Error('no free cell');
}

/** A copy of the env's RNG, to predict its next draws. */
function peekRng(env: SnakeEnv): Rng {
  const probe = new Rng(0);
  probe.setState(env.npRandom.getState());
  return probe;
}

/** The observation built by hand from the documented encoding. */
function expectedObs(env: SnakeEnv, body: SnakeCell[], fruit: SnakeCell | null): Float32Array {
  const out = new Float32Array(env.rows * env.cols * 3);
  const L = body.length;
  body.forEach(([r, c], i) => {
    if (i === 0) out[at(env, r, c, 0)] = 1;
    else out[at(env, r, c, 1)] = (L - i) / (L - 1);
  });
  if (fruit) out[at(env, fruit[0], fruit[1], 2)] = 1;
  return out;
}

// A 2x2 loop in the middle of the board: head (1,1) heading up, tail (1,2) to its right.
const SQUARE: SnakeState = { body: [[1, 1], [2, 1], [2, 2], [1, 2]], heading: 0, fruit: [8, 8] };

describe('SnakeEnv: construction and spaces', () => {
  it('has the documented defaults, spaces and metadata', () => {
    const env = new SnakeEnv();
    expect([env.rows, env.cols, env.initialLength]).toEqual([9, 9, 2]);
    expect([env.fruitReward, env.deathReward, env.stepReward]).toEqual([10, -10, -0.2]);
    expect(env.maxStepsWithoutFruit).toBe(9 * 9 * 4);
    expect(new SnakeEnv({ rows: 5, cols: 6 }).maxStepsWithoutFruit).toBe(120);
    expect(env.actionSpace.toString()).toBe('Discrete(3)');
    expect(env.observationSpace.toString()).toBe('Box(0, 1, (9, 9, 3), float32)');
    expect(env.metadata).toEqual({ renderModes: ['json', 'ansi'], renderFps: 10 });
  });

  it('rejects unknown options and bad values, naming the env and the option', () => {
    const bad: [unknown, RegExp][] = [
      [{ row: 5 }, /SnakeEnv: unknown option 'row'/],
      [{ rows: 9, speed: 2, colour: 'red' }, /SnakeEnv: unknown options 'speed', 'colour'/],
      [{ rows: 0 }, /SnakeEnv: option 'rows'/],
      [{ rows: 2.5 }, /SnakeEnv: option 'rows'/],
      [{ rows: '9' }, /SnakeEnv: option 'rows'/],
      [{ cols: 1 }, /SnakeEnv: option 'cols'/],
      [{ initialLength: 0 }, /SnakeEnv: option 'initialLength'/],
      [{ initialLength: 9 }, /SnakeEnv: option 'initialLength'.*from 1 to 8/],
      [{ cols: 4, initialLength: 4 }, /SnakeEnv: option 'initialLength'/],
      [{ fruitReward: NaN }, /SnakeEnv: option 'fruitReward'/],
      [{ deathReward: Infinity }, /SnakeEnv: option 'deathReward'/],
      [{ stepReward: '0' }, /SnakeEnv: option 'stepReward'/],
      [{ maxStepsWithoutFruit: 0 }, /SnakeEnv: option 'maxStepsWithoutFruit'/],
      [{ maxStepsWithoutFruit: 3.5 }, /SnakeEnv: option 'maxStepsWithoutFruit'/],
      [null, /SnakeEnv: options must be an object/],
    ];
    for (const [opts, msg] of bad) expect(() => new SnakeEnv(opts as never), JSON.stringify(opts)).toThrow(msg);
    expect(() => new SnakeEnv({ rows: 1, cols: 2, initialLength: 1, maxStepsWithoutFruit: Infinity, stepReward: 0 })).not.toThrow();
    expect(() => new SnakeEnv({ rows: undefined })).not.toThrow();
  });
});

describe('SnakeEnv: reset', () => {
  it('lays the snake straight on the row drawn first, heading right, and the fruit on the k-th free cell drawn second', () => {
    for (const seed of [0, 1, 123, 2024]) {
      const env = new SnakeEnv();
      const [obs, info] = env.reset({ seed });
      const probe = new Rng(seed);
      const row = probe.integer(9);
      const body: SnakeCell[] = [[row, 1], [row, 0]];
      const fruit = kthFree(9, 9, body, probe.integer(81 - 2));
      expect(env.body).toEqual(body);
      expect(env.heading).toBe(1);
      expect(env.length).toBe(2);
      expect(env.fruit).toEqual(fruit);
      expect(body).not.toContainEqual(fruit);
      expect(info).toEqual({ score: 0, length: 2 });
      expect(obs).toEqual(expectedObs(env, body, fruit));
      expect(env.observationSpace.contains(obs)).toBe(true);
      const frame = env.render() as SnakeFrame;
      expect(frame).toEqual({ kind: 'snake', rows: 9, cols: 9, body, fruit, heading: 1, score: 0, alive: true, lastAction: null });
    }
  });

  it('puts the tail at column 0 and the head at column initialLength - 1', () => {
    const env = new SnakeEnv({ rows: 4, cols: 7, initialLength: 5 });
    env.reset({ seed: 5 });
    const row = new Rng(5).integer(4);
    expect(env.body).toEqual([[row, 4], [row, 3], [row, 2], [row, 1], [row, 0]]);
    expect(env.getState()).toMatchObject({ heading: 1, score: 0, stepsWithoutFruit: 0 });
  });

  it('starts fresh after a previous episode, without a seed continuing the RNG', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 3 });
    env.setState({ body: [[0, 4], [0, 3]], heading: 1, fruit: [8, 8] });
    env.step(LEFT); // off the top: dead
    const probe = peekRng(env);
    const [, info] = env.reset();
    const row = probe.integer(9);
    expect(env.body).toEqual([[row, 1], [row, 0]]);
    expect(env.fruit).toEqual(kthFree(9, 9, env.body, probe.integer(79)));
    expect(info).toEqual({ score: 0, length: 2 });
    expect((env.render() as SnakeFrame).alive).toBe(true);
  });
});

describe('SnakeEnv: movement', () => {
  const centre: SnakeState = { body: [[4, 4], [4, 3]], heading: 1, fruit: [0, 0] };

  it('straight keeps the heading, left turns counter-clockwise, right turns clockwise', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    const cases: [number, number, SnakeCell][] = [
      [STRAIGHT, 1, [4, 5]],
      [LEFT, 0, [3, 4]],
      [RIGHT, 2, [5, 4]],
    ];
    for (const [action, heading, head] of cases) {
      env.setState(centre);
      const [, reward, terminated, truncated, info] = env.step(action);
      expect(env.heading).toBe(heading);
      expect(env.body).toEqual([head, [4, 4]]);
      expect([reward, terminated, truncated]).toEqual([-0.2, false, false]);
      expect(info).toEqual({ score: 0, length: 2 });
      expect((env.render() as SnakeFrame).lastAction).toBe(action);
    }
  });

  it('four left turns go round a 2x2 square and come back heading right', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    env.setState(centre);
    const headings: number[] = [];
    const heads: SnakeCell[] = [];
    for (let i = 0; i < 4; i++) {
      env.step(LEFT);
      headings.push(env.heading);
      heads.push(env.body[0]!);
    }
    expect(headings).toEqual([0, 3, 2, 1]);
    expect(heads).toEqual([[3, 4], [3, 3], [4, 3], [4, 4]]);
  });

  it('moving into the cell the tail is leaving is legal, so the snake can chase its tail forever', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    env.setState(SQUARE);
    const [obs, reward, terminated] = env.step(RIGHT);
    expect([reward, terminated]).toEqual([-0.2, false]);
    expect(env.heading).toBe(1);
    expect(env.body).toEqual([[1, 2], [1, 1], [2, 1], [2, 2]]);
    expect(obs).toEqual(expectedObs(env, [[1, 2], [1, 1], [2, 1], [2, 2]], [8, 8]));
    for (let i = 0; i < 20; i++) expect(env.step(RIGHT)[2]).toBe(false);
    expect(env.body).toEqual([[1, 2], [1, 1], [2, 1], [2, 2]]); // 21 moves = 5 laps + 1
  });
});

describe('SnakeEnv: death', () => {
  it('dies at the right wall after driving straight across the board', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 7 });
    const row = env.body[0]![0];
    // Head starts at col 1: seven moves reach col 8, the eighth leaves the board.
    for (let i = 0; i < 7; i++) {
      const [, reward, terminated] = env.step(STRAIGHT);
      expect(terminated).toBe(false);
      expect([-0.2, 10]).toContain(reward); // 10 if the fruit happened to lie on this row
      expect(env.body[0]).toEqual([row, 2 + i]);
    }
    const before = env.body;
    const [obs, reward, terminated, truncated, info] = env.step(STRAIGHT);
    expect([reward, terminated, truncated]).toEqual([-10, true, false]);
    expect(info).toMatchObject({ length: before.length });
    // The fatal move is not applied.
    expect(env.body).toEqual(before);
    expect(obs).toEqual(expectedObs(env, before, env.fruit));
    expect((env.render() as SnakeFrame).alive).toBe(false);
  });

  it('dies at the top wall when turning left on row 0', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 1 });
    env.setState({ body: [[0, 4], [0, 3]], heading: 1, fruit: [5, 5] });
    expect(env.step(LEFT).slice(1, 4)).toEqual([-10, true, false]);
  });

  it('a 5-long snake turning right three times bites itself on the third turn', () => {
    const env = new SnakeEnv({ initialLength: 5 });
    env.reset({ seed: 0 });
    env.setState({ body: [[2, 4], [2, 3], [2, 2], [2, 1], [2, 0]], heading: 1, fruit: [8, 8] });
    // Turn 1: down to (3,4). Turn 2: left to (3,3); body (3,3) (3,4) (2,4) (2,3) (2,2).
    expect(env.step(RIGHT).slice(1, 3)).toEqual([-0.2, false]);
    expect(env.step(RIGHT).slice(1, 3)).toEqual([-0.2, false]);
    expect(env.body).toEqual([[3, 3], [3, 4], [2, 4], [2, 3], [2, 2]]);
    // Turn 3: up to (2,3), a body cell that is not the tail (the tail (2,2) is the one leaving).
    const [, reward, terminated, truncated] = env.step(RIGHT);
    expect([reward, terminated, truncated]).toEqual([-10, true, false]);
    expect(env.heading).toBe(0);
  });

  it('the same manoeuvre from a seeded reset with initialLength 5 also bites on the third turn', () => {
    const env = new SnakeEnv({ initialLength: 5 });
    env.reset({ seed: 0 });
    const row = env.body[0]![0];
    // Preconditions for this seed: room below the snake and no fruit in the way.
    expect(row).toBeLessThan(8);
    expect([[row + 1, 4], [row + 1, 3]]).not.toContainEqual(env.fruit);
    expect(env.step(RIGHT)[2]).toBe(false);
    expect(env.step(RIGHT)[2]).toBe(false);
    expect(env.step(RIGHT).slice(1, 3)).toEqual([-10, true]);
  });

  it('a 5-long snake entering the cell behind its head in a square dies (that cell is not the tail)', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    env.setState({ body: [[1, 1], [2, 1], [2, 2], [1, 2], [0, 2]], heading: 0, fruit: [8, 8] });
    expect(env.step(RIGHT).slice(1, 3)).toEqual([-10, true]);
  });
});

describe('SnakeEnv: eating and winning', () => {
  it('eating gives +10, grows by one, keeps the tail in place and draws a new fruit on a free cell', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 11 });
    env.setState({ body: [[0, 1], [0, 0]], heading: 1, fruit: [0, 2], stepsWithoutFruit: 17 });
    const probe = peekRng(env);
    const [obs, reward, terminated, truncated, info] = env.step(STRAIGHT);
    const body: SnakeCell[] = [[0, 2], [0, 1], [0, 0]];
    const fruit = kthFree(9, 9, body, probe.integer(81 - 3));
    expect([reward, terminated, truncated]).toEqual([10, false, false]);
    expect(info).toEqual({ score: 1, length: 3 });
    expect(env.body).toEqual(body);
    expect(env.fruit).toEqual(fruit);
    expect(fruit).not.toEqual([0, 2]);
    expect(env.getState().stepsWithoutFruit).toBe(0);
    expect(obs).toEqual(expectedObs(env, body, fruit));
    expect(obs[at(env, 0, 1, 1)]).toBe(1); // neck
    expect(obs[at(env, 0, 0, 1)]).toBe(0.5); // tail
    // Next plain move: the tail moves again.
    env.setState({ body, heading: 1, fruit: [8, 8], score: 1 });
    const [, r2, , , info2] = env.step(RIGHT);
    expect(r2).toBe(-0.2);
    expect(info2).toEqual({ score: 1, length: 3 });
    expect(env.body).toEqual([[1, 2], [0, 2], [0, 1]]);
  });

  it('filling the board is a win: fruitReward, terminated, info.win, no fruit left', () => {
    const env = new SnakeEnv({ rows: 2, cols: 3 });
    env.reset({ seed: 0 });
    // 5 of 6 cells taken, head (1,1) heading left, the fruit on the last free cell (1,0).
    env.setState({ body: [[1, 1], [1, 2], [0, 2], [0, 1], [0, 0]], heading: 3, fruit: [1, 0], score: 3 });
    const [obs, reward, terminated, truncated, info] = env.step(STRAIGHT);
    expect([reward, terminated, truncated]).toEqual([10, true, false]);
    expect(info).toEqual({ score: 4, length: 6, win: true });
    expect(env.fruit).toBeNull();
    expect(obs).toEqual(expectedObs(env, [[1, 0], [1, 1], [1, 2], [0, 2], [0, 1], [0, 0]], null));
    const frame = env.render() as SnakeFrame;
    expect(frame.fruit).toBeNull();
    expect(frame.alive).toBe(true);
    expect(() => env.step(STRAIGHT)).toThrow(/episode has ended/);
  });

  it('following a Hamiltonian cycle on a 2x3 board wins every seeded game from reset', () => {
    // Clockwise cycle; the snake runs it in whichever orientation its neck implies.
    const cycle: SnakeCell[] = [[0, 0], [0, 1], [0, 2], [1, 2], [1, 1], [1, 0]];
    const pos = (cell: SnakeCell) => cycle.findIndex(([r, c]) => r === cell[0] && c === cell[1]);
    const dirTo = (from: SnakeCell, to: SnakeCell) => (to[0] < from[0] ? 0 : to[1] > from[1] ? 1 : to[0] > from[0] ? 2 : 3);
    for (let seed = 0; seed < 10; seed++) {
      const env = new SnakeEnv({ rows: 2, cols: 3 });
      env.reset({ seed });
      let total = 0;
      let steps = 0;
      for (;;) {
        const [head, neck] = env.body as [SnakeCell, SnakeCell];
        const forward = (pos(neck) + 1) % 6 === pos(head) ? 1 : 5;
        const target = cycle[(pos(head) + forward) % 6]!;
        const turn = (dirTo(head, target) - env.heading + 4) % 4; // 0 straight, 1 right, 3 left
        const [, reward, terminated, truncated, info] = env.step(turn === 0 ? STRAIGHT : turn === 1 ? RIGHT : LEFT);
        total += reward;
        steps++;
        expect(truncated).toBe(false);
        if (terminated) {
          expect(info).toEqual({ score: 4, length: 6, win: true });
          expect(reward).toBe(10);
          break;
        }
      }
      expect(steps).toBeLessThanOrEqual(4 * 5);
      expect(total).toBeCloseTo(40 - 0.2 * (steps - 4), 10);
    }
  });
});

describe('SnakeEnv: truncation', () => {
  it('truncates (not terminates) after maxStepsWithoutFruit steps without eating', () => {
    const env = new SnakeEnv({ maxStepsWithoutFruit: 6 });
    env.reset({ seed: 0 });
    env.setState(SQUARE);
    for (let i = 1; i <= 5; i++) expect(env.step(RIGHT).slice(1, 4)).toEqual([-0.2, false, false]);
    const [obs, reward, terminated, truncated, info] = env.step(RIGHT);
    expect([reward, terminated, truncated]).toEqual([-0.2, false, true]);
    expect(info).toEqual({ score: 0, length: 4 });
    expect(env.observationSpace.contains(obs)).toBe(true);
    expect(() => env.step(RIGHT)).toThrow(/SnakeEnv: the episode has ended.*reset\(\)/);
  });

  it('counts from the given stepsWithoutFruit, and eating restarts the count', () => {
    const env = new SnakeEnv({ maxStepsWithoutFruit: 3 });
    env.reset({ seed: 0 });
    env.setState({ ...SQUARE, stepsWithoutFruit: 2 });
    expect(env.step(RIGHT)[3]).toBe(true);

    // Two steps in, the third one eats: no truncation, and the count starts again from 0.
    env.setState({ body: [[4, 1], [4, 0]], heading: 1, fruit: [4, 2], stepsWithoutFruit: 2 });
    expect(env.step(STRAIGHT).slice(1, 4)).toEqual([10, false, false]);
    expect(env.getState().stepsWithoutFruit).toBe(0);
  });
});

describe('SnakeEnv: observations', () => {
  it('the planes match the state, with body values decreasing from neck to tail', () => {
    const env = new SnakeEnv({ rows: 6, cols: 7, initialLength: 5 });
    env.reset({ seed: 4 });
    env.setState({ body: [[2, 4], [2, 3], [2, 2], [2, 1], [2, 0]], heading: 1, fruit: [5, 6] });
    const [obs] = env.step(RIGHT);
    const body: SnakeCell[] = [[3, 4], [2, 4], [2, 3], [2, 2], [2, 1]];
    expect(env.body).toEqual(body);
    expect(Array.from(obs)).toEqual(Array.from(expectedObs(env, body, [5, 6])));
    expect([1, 2, 3, 4].map((i) => obs[at(env, body[i]![0], body[i]![1], 1)])).toEqual([1, 0.75, 0.5, 0.25]);
    expect(obs[at(env, 3, 4, 0)]).toBe(1);
    expect(obs[at(env, 3, 4, 1)]).toBe(0); // the head is not in the body plane
    expect(obs.reduce((a, v) => a + v, 0)).toBe(1 + 2.5 + 1);
    expect(env.observationSpace.contains(obs)).toBe(true);
  });

  it('returns a new array each step and never overwrites earlier observations', () => {
    const env = new SnakeEnv();
    const [first] = env.reset({ seed: 8 });
    const snapshot = first.slice();
    const seen: Float32Array[] = [first];
    for (let i = 0; i < 40; i++) {
      const [obs, , terminated, truncated] = env.step(i % 5 === 0 ? LEFT : i % 5 === 2 ? RIGHT : STRAIGHT);
      expect(seen).not.toContain(obs);
      seen.push(obs);
      if (terminated || truncated) seen.push(env.reset()[0]);
    }
    expect(first).toEqual(snapshot);
    expect(first.length).toBe(9 * 9 * 3);
  });

  it('a length-1 snake has an empty body plane', () => {
    const env = new SnakeEnv({ rows: 3, cols: 3, initialLength: 1 });
    const [obs] = env.reset({ seed: 2 });
    const [[r, c]] = env.body as [SnakeCell];
    expect(c).toBe(0);
    expect(obs.filter((_, i) => i % 3 === 1).every((v) => v === 0)).toBe(true);
    expect(obs[at(env, r, c, 0)]).toBe(1);
  });
});

describe('SnakeEnv: determinism', () => {
  function play(seed: number, steps = 400): unknown[] {
    const env = new SnakeEnv({ rows: 6, cols: 6 });
    const actions = new Rng(99);
    const log: unknown[] = [Array.from(env.reset({ seed })[0])];
    for (let i = 0; i < steps; i++) {
      const [obs, reward, terminated, truncated, info] = env.step(actions.integer(3));
      log.push([Array.from(obs), reward, terminated, truncated, info]);
      if (terminated || truncated) log.push(Array.from(env.reset()[0]));
    }
    return log;
  }

  it('same seed and actions give identical trajectories, different seeds differ', () => {
    const a = play(42);
    expect(play(42)).toEqual(a);
    expect(play(43)).not.toEqual(a);
    expect(a.length).toBeGreaterThan(400); // several episodes were played
  });

  it('reset with the same seed restores the same start', () => {
    const env = new SnakeEnv();
    const [o1] = env.reset({ seed: 5 });
    env.step(STRAIGHT);
    const [o2] = env.reset({ seed: 5 });
    expect(o2).toEqual(o1);
  });
});

describe('SnakeEnv: errors', () => {
  it('refuses step and render before reset', () => {
    const env = new SnakeEnv();
    expect(() => env.step(STRAIGHT)).toThrow(/SnakeEnv: call reset\(\) before step\(\)/);
    expect(() => env.render()).toThrow(/reset\(\)/);
  });

  it('refuses stepping after termination until reset', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    env.setState({ body: [[0, 4], [0, 3]], heading: 1, fruit: [5, 5] });
    expect(env.step(LEFT)[2]).toBe(true);
    expect(() => env.step(STRAIGHT)).toThrow(/SnakeEnv: the episode has ended/);
    expect(() => env.step(RIGHT)).toThrow(/episode has ended/);
    env.reset();
    expect(() => env.step(STRAIGHT)).not.toThrow();
  });

  it('rejects invalid actions', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    for (const a of [3, -1, 1.5, NaN, '1', null]) {
      expect(() => env.step(a as number), String(a)).toThrow(/SnakeEnv: invalid action/);
    }
    expect(env.body[0]![1]).toBe(1); // nothing moved
  });

  it('setState validates its input', () => {
    const env = new SnakeEnv({ rows: 4, cols: 4 });
    env.reset({ seed: 0 });
    const ok: SnakeState = { body: [[1, 1], [1, 0]], heading: 1, fruit: [3, 3] };
    const bad: [Partial<SnakeState> & Record<string, unknown>, RegExp][] = [
      [{ body: [] }, /body must be a non-empty array/],
      [{ body: [[1, 1], [1, 3]] }, /not adjacent/],
      [{ body: [[1, 1], [1, 0], [1, 1]] }, /appears twice/],
      [{ body: [[1, 4], [1, 3]] }, /off the 4x4 board/],
      [{ heading: 2 }, /heading 2 is not the direction from body\[1\] to body\[0\]/],
      [{ heading: 4 }, /heading must be/],
      [{ fruit: [1, 0] }, /fruit \[1,0\] is on the snake/],
      [{ fruit: [4, 0] }, /off the 4x4 board/],
      [{ score: -1 }, /score/],
      [{ stepsWithoutFruit: 64 }, /stepsWithoutFruit/],
      [{ extra: 1 }, /unknown field extra/],
    ];
    for (const [patch, msg] of bad) {
      expect(() => env.setState({ ...ok, ...patch } as SnakeState), JSON.stringify(patch)).toThrow(msg);
    }
    expect(env.setState(ok)).toEqual(expectedObs(env, ok.body, ok.fruit));
    expect(env.getState()).toEqual({ ...ok, score: 0, stepsWithoutFruit: 0 });
  });
});

describe('SnakeEnv: rendering', () => {
  it('ansi shows the board, the score and the last action', () => {
    const env = new SnakeEnv({ rows: 3, cols: 4 });
    env.renderMode = 'ansi';
    env.reset({ seed: 0 });
    env.setState({ body: [[1, 2], [1, 1], [1, 0]], heading: 1, fruit: [0, 3], score: 2 });
    expect(env.render()).toBe(['+----+', '|...*|', '|ooO.|', '|....|', '+----+', 'score: 2  length: 3  last action: none'].join('\n'));
    env.step(STRAIGHT);
    expect(env.render()).toBe(['+----+', '|...*|', '|.ooO|', '|....|', '+----+', 'score: 2  length: 3  last action: straight'].join('\n'));
    env.step(STRAIGHT);
    expect(env.render()).toBe(['+----+', '|...*|', '|.ooX|', '|....|', '+----+', 'score: 2  length: 3  last action: straight  (dead)'].join('\n'));
  });

  it('json frames are plain data', () => {
    const env = new SnakeEnv();
    env.reset({ seed: 0 });
    env.setState({ body: [[4, 4], [4, 3]], heading: 1, fruit: [0, 0] });
    env.step(RIGHT);
    const frame = env.render() as SnakeFrame;
    expect(JSON.parse(JSON.stringify(frame))).toEqual({
      kind: 'snake', rows: 9, cols: 9, body: [[5, 4], [4, 4]], fruit: [0, 0], heading: 2, score: 0, alive: true, lastAction: 2,
    });
  });
});
