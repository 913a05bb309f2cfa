/**
 * Validation by own properties: names that every object inherits (`__proto__`, `constructor`, `toString`,
 * `hasOwnProperty`, `valueOf`) are refused clearly wherever a user-supplied string picks a field, a schema, an
 * env, an agent, a preset or a hyperparameter — as field names and as values — and nothing reaches
 * Object.prototype. (The HTTP / socket-level version of these checks lives in the security suite.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schemas, validate, type ValidatedEvent } from '../protocol/protocol.js';
import { Box, GoVsOpponentEnv, make, registration, spec } from '../envs/index.js';
import { agentEntry, findPreset, resolveAgentConfig } from '../agents/registry.js';
import { ganPreset } from '../gan/models.js';
import { keyValue } from '../cli/args.js';
import { checkGanStartRequest, checkStartRequest } from '../server/catalog.js';
import { DiskRuns } from '../server/disk_runs.js';
import { GoGames } from '../server/go_games.js';
import { groupKey, parseGroupBy, type LoadedRun } from '../analysis/compare.js';

const NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;
/** What Object.prototype held before the test (nothing may be added, nothing replaced). */
const PROTO_KEYS = Object.getOwnPropertyNames(Object.prototype).sort();
const PROTO_VALUES = PROTO_KEYS.map((k) => Object.getOwnPropertyDescriptor(Object.prototype, k));

/** `{ ...base, [name]: value }` with `name` as an own property even for `__proto__` (as JSON.parse makes it). */
function withOwn(base: object, name: string, value: unknown): Record<string, unknown> {
  return JSON.parse(`${JSON.stringify(base).slice(0, -1)}${Object.keys(base).length ? ',' : ''}${JSON.stringify(name)}:${JSON.stringify(value)}}`) as Record<string, unknown>;
}

function expectNoPollution(): void {
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(PROTO_KEYS);
  PROTO_KEYS.forEach((k, i) => expect(Object.getOwnPropertyDescriptor(Object.prototype, k)).toEqual(PROTO_VALUES[i]));
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}

const RUN_INFO = {
  runId: 'run-1',
  kind: 'rl',
  envId: 'CartPole-v1',
  agent: 'dqn',
  preset: null,
  seed: 0,
  steps: 1000,
  episodes: null,
  numEnvs: 1,
  backend: 'cpu',
  fps: 50,
  runDir: '/tmp/run-1',
  startStep: 0,
  hyperparameters: { learningRate: 0.001 },
};
const EPISODE = { type: 'episode', step: 10, episode: 1, envIndex: 0, return: 10, length: 10, terminated: true, truncated: false, time: 0.1 };

/** A valid payload of every validated socket event (several for run:start). */
const VALID: Record<ValidatedEvent, object[]> = {
  'publisher:hello': [{ protocol: 1, run: RUN_INFO }],
  'publisher:events': [{ runId: 'run-1', events: [EPISODE] }],
  'publisher:end': [{ runId: 'run-1', status: 'done' }],
  'runs:list': [{}],
  'run:watch': [{ runId: 'run-1' }],
  'run:unwatch': [{ runId: 'run-1' }],
  'run:start': [
    { envId: 'CartPole-v1', agent: 'dqn' },
    { kind: 'rl', envId: 'CartPole-v1', agent: 'dqn', preset: 'zoo', seed: 1, steps: 100 },
    { kind: 'gan', category: 'apple', preset: 'tiny', seed: 1, iterations: 5 },
  ],
  'run:stop': [{ runId: 'run-1' }],
  'run:watch-policy': [{ runId: 'run-1' }],
  'go:new': [
    { size: 7, opponent: 'random', humanColor: 'black' },
    { size: 7, opponent: 'alphazero', humanColor: 'white', agent: 'go7-alphazero-s1', sims: 10 },
  ],
  'go:play': [{ gameId: 'g-1', move: 3 }],
  'go:resign': [{ gameId: 'g-1' }],
  'go:close': [{ gameId: 'g-1' }],
};

afterAll(() => expectNoPollution());

describe('socket schemas', () => {
  it('covers every validated event', () => {
    expect(Object.keys(VALID).sort()).toEqual(Object.keys(schemas).sort());
  });

  it('accepts the valid payloads', () => {
    for (const [event, payloads] of Object.entries(VALID)) {
      for (const p of payloads) expect(validate(event as ValidatedEvent, p), `${event} ${JSON.stringify(p)}`).toMatchObject({ ok: true });
    }
  });

  it('refuses event names that only the prototype knows', () => {
    for (const name of NAMES) {
      const r = validate(name as ValidatedEvent, {});
      expect(r.ok).toBe(false);
      expect(!r.ok && r.error).toMatch(/unknown event/);
    }
    expectNoPollution();
  });

  it('refuses inherited names as extra fields of every payload, nested ones included', () => {
    for (const [event, payloads] of Object.entries(VALID)) {
      for (const p of payloads) {
        for (const name of NAMES) {
          const r = validate(event as ValidatedEvent, withOwn(p, name, { polluted: true }));
          expect(r.ok, `${event} + ${name}`).toBe(false);
          expect(!r.ok && r.error, `${event} + ${name}`).toContain(`${name}: unknown field`);
        }
      }
    }
    // Nested objects: publisher:hello's run, and the hyperparameters / frames passed as plain JSON.
    for (const name of NAMES) {
      const hello = validate('publisher:hello', { protocol: 1, run: withOwn(RUN_INFO, name, 1) });
      expect(!hello.ok && hello.error).toContain(`run.${name}: unknown field`);
    }
    const proto = validate('publisher:hello', { protocol: 1, run: { ...RUN_INFO, hyperparameters: JSON.parse('{"__proto__": {"polluted": true}}') } });
    expect(!proto.ok && proto.error).toMatch(/hyperparameters\.__proto__: not allowed as a key/);
    const frame = validate('publisher:events', { runId: 'run-1', events: [{ type: 'step', step: 1, episode: 1, episodeStep: 1, action: 0, reward: 1, episodeReturn: 1, terminated: false, truncated: false, t: 1, frame: JSON.parse('{"kind": "cartpole", "__proto__": {"polluted": true}}') }] });
    expect(!frame.ok && frame.error).toMatch(/__proto__: not allowed as a key/);
    expectNoPollution();
  });

  it('refuses inherited names as the value of a tag or a literal', () => {
    for (const name of NAMES) {
      for (const check of [
        validate('run:start', { kind: name, envId: 'CartPole-v1', agent: 'dqn' }),
        validate('publisher:events', { runId: 'run-1', events: [{ ...EPISODE, type: name }] }),
        validate('publisher:end', { runId: 'run-1', status: name }),
        validate('publisher:hello', { protocol: 1, run: { ...RUN_INFO, kind: name } }),
        validate('go:new', { size: 7, opponent: name, humanColor: 'black' }),
        validate('go:new', { size: 7, opponent: 'random', humanColor: name }),
      ]) {
        expect(check.ok, name).toBe(false);
        expect(!check.ok && check.error).toMatch(/expected one of/);
      }
    }
  });

  it('reads own fields only: an inherited kind or field is not seen', () => {
    // `kind: "gan"` and `category` only on the prototype: the request is an RL request without them.
    const request = Object.assign(Object.create({ kind: 'gan', category: 'apple' }) as object, { envId: 'CartPole-v1', agent: 'dqn' });
    const r = validate('run:start', request);
    expect(r.ok).toBe(true);
    expect(r.ok && r.value).toEqual({ envId: 'CartPole-v1', agent: 'dqn' });
    // A required field that is only inherited is missing.
    const watch = validate('run:watch', Object.create({ runId: 'run-1' }));
    expect(!watch.ok && watch.error).toMatch(/runId: expected a string, got nothing/);
  });

  it('refuses __proto__ given as a JSON key holding a whole payload', () => {
    const r = validate('run:start', JSON.parse('{"__proto__": {"kind": "gan", "category": "apple"}, "envId": "CartPole-v1", "agent": "dqn"}'));
    expect(!r.ok && r.error).toMatch(/__proto__: unknown field/);
    expectNoPollution();
  });
});

describe('start requests, registries and presets', () => {
  it('checkStartRequest refuses inherited names as env, agent and preset', () => {
    for (const name of NAMES) {
      expect(() => checkStartRequest({ envId: name, agent: 'dqn' })).toThrow(/unknown environment id/);
      expect(() => checkStartRequest({ envId: 'CartPole-v1', agent: name })).toThrow(/unknown agent/);
      expect(() => checkStartRequest({ envId: 'CartPole-v1', agent: 'dqn', preset: name })).toThrow(new RegExp(`agent 'dqn' has no preset '${name}'`));
      expect(() => checkStartRequest({ envId: 'CartPole-v1', agent: 'reinforce', preset: name })).toThrow(/has no preset/);
    }
    expectNoPollution();
  });

  it('checkGanStartRequest refuses inherited names as category and preset', () => {
    for (const name of NAMES) {
      expect(() => checkGanStartRequest({ kind: 'gan', category: name })).toThrow(/category: .* is not available on this server/);
      expect(() => checkGanStartRequest({ kind: 'gan', category: 'apple', preset: name })).toThrow(/preset: unknown GAN preset/);
    }
  });

  it('the env registry, agents, presets and hyperparameters know only their own names', () => {
    for (const name of NAMES) {
      expect(() => make(name)).toThrow(/unknown environment id/);
      expect(() => registration(name)).toThrow(/unknown environment id/);
      expect(() => spec(name)).toThrow(/unknown environment id/);
      expect(() => agentEntry(name)).toThrow(/unknown agent/);
      expect(() => findPreset('dqn', undefined, name)).toThrow(/has no preset/);
      expect(() => findPreset('a2c', 'CartPole-v1', name)).toThrow(/has no preset/);
      expect(() => ganPreset(name)).toThrow(/unknown GAN preset/);
      expect(() => resolveAgentConfig('dqn', null, withOwn({}, name, { polluted: true }))).toThrow(/unknown dqn hyperparameter/);
      expect(() => resolveAgentConfig('a2c', null, withOwn({ learningRate: 0.01 }, name, 1))).toThrow(new RegExp(`unknown a2c hyperparameter '${name}'`));
      // Env options and env-level names.
      expect(() => make('CartPole-v1', withOwn({}, name, 1))).toThrow(/unknown option/);
      expect(() => make('FrozenLake-v1', withOwn({}, name, 1))).toThrow(/unknown option/);
      expect(() => new GoVsOpponentEnv({ size: 5, opponent: name as 'random' })).toThrow(/unknown opponent/);
      expect(() => new Box(0, 1, [2], name as 'float32')).toThrow(/unknown dtype/);
    }
    expect(findPreset('dqn', undefined, 'zoo')?.name).toBe('zoo');
    expectNoPollution();
  });

  it('the --set / --kw parser refuses inherited names as keys (dotted too) and __proto__ inside values', () => {
    for (const name of NAMES) {
      expect(() => keyValue(`${name}=1`)).toThrow(new RegExp(`'${name}' is not an option or hyperparameter name`));
      expect(() => keyValue(`discriminator.${name}=true`)).toThrow(/is not an option or hyperparameter name/);
      expect(() => keyValue(`${name}.x={"polluted":true}`)).toThrow(/is not an option or hyperparameter name/);
    }
    expect(() => keyValue('prototype.polluted=1')).toThrow(/is not an option/);
    expect(() => keyValue('exploration={"__proto__":{"polluted":true}}')).toThrow(/may not hold a "__proto__" key/);
    expect(() => keyValue('hidden=[{"__proto__":1}]')).toThrow(/may not hold a "__proto__" key/);
    expect(keyValue('learningRate=0.001', { hidden: [64] })).toEqual({ hidden: [64], learningRate: 0.001 });
    expect(keyValue('mapName=8x8')).toEqual({ mapName: '8x8' });
    expectNoPollution();
  });
});

describe('lab compare --group-by hyper:<name>', () => {
  it('reads own hyperparameters only', () => {
    const run = { hyperparameters: { learningRate: 0.001, exploration: { final: 0.05 } } } as unknown as LoadedRun;
    expect(groupKey(run, parseGroupBy('hyper:learningRate'))).toBe('learningRate=0.001');
    expect(groupKey(run, parseGroupBy('hyper:exploration.final'))).toBe('exploration.final=0.05');
    for (const name of NAMES) {
      expect(groupKey(run, parseGroupBy(`hyper:${name}`))).toBe(`${name}=(unset)`);
      expect(groupKey(run, parseGroupBy(`hyper:exploration.${name}`))).toBe(`exploration.${name}=(unset)`);
    }
  });
});

describe('stored runs and Go games', () => {
  let root: string;
  beforeAll(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'lab-own-props-'));
  });
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  it('run ids that name prototype members are just unknown runs', () => {
    const disk = new DiskRuns(root);
    for (const name of NAMES) {
      expect(disk.dirOf(name)).toBeNull();
      expect(disk.summary(name)).toBeNull();
      expect(disk.history(name)).toBeNull();
      expect(disk.samples(name)).toEqual([]);
    }
    expect(disk.list()).toEqual([]);
  });

  it('Go game ids and agent names that name prototype members are refused', () => {
    const games = new GoGames(root);
    const owner = { id: 'viewer-1', emit: () => true } as unknown as Parameters<GoGames['create']>[0];
    for (const name of NAMES) {
      expect(() => games.play(owner, name, 0)).toThrow(/no game/);
      expect(() => games.resign(owner, name)).toThrow(/no game/);
      expect(() => games.close(owner, name)).toThrow(/no game/);
      expect(() => games.create(owner, { size: 7, opponent: 'alphazero', humanColor: 'black', agent: name })).toThrow(/no AlphaZero agent/);
    }
    expectNoPollution();
  });
});
