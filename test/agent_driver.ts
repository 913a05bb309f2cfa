/**
 * A test driver for agents: steps a vector env with an agent as the training loop does (same-step autoreset, true
 * final observations, action masks), and can be cloned to continue from the same state. Used by the
 * policy-gradient agents' tests (REINFORCE, A2C, PPO).
 */
import { makeVec, type TypedArray, type VectorEnv } from '../envs/index.js';
import { batchedActionMasks, toStepBatch } from '../agents/training.js';
import type { Agent, UpdateStats } from '../agents/agent.js';

export class Driver {
  readonly envs: VectorEnv;
  obs: TypedArray;
  masks: Int8Array | null;
  step = 0;
  readonly nActions: number;

  constructor(
    readonly envId: string,
    readonly n: number,
    seed: number,
    /** The run length agents are told (their schedules, such as annealing, are defined over it). */
    readonly totalSteps = 100_000,
  ) {
    this.envs = makeVec(envId, n, { autoresetMode: 'same-step' });
    this.nActions = (this.envs.singleActionSpace as unknown as { n: number }).n;
    const [obs, infos] = this.envs.reset({ seed });
    this.obs = obs;
    this.masks = batchedActionMasks(infos, n, this.nActions);
  }

  get setup() {
    return { observationSpace: this.envs.singleObservationSpace, actionSpace: this.envs.singleActionSpace, numEnvs: this.n, totalSteps: this.totalSteps, seed: 7 };
  }

  /** Runs `vectorSteps` steps; returns the actions taken and the stats of every update. */
  async run(agent: Agent, vectorSteps: number): Promise<{ actions: number[]; stats: UpdateStats[]; masks: (Int8Array | null)[] }> {
    const actions: number[] = [];
    const stats: UpdateStats[] = [];
    const masks: (Int8Array | null)[] = [];
    for (let s = 0; s < vectorSteps; s++) {
      const a = await agent.act(this.obs, this.n, true, this.masks);
      actions.push(...a);
      masks.push(this.masks);
      const result = this.envs.step(a);
      const { batch, masks: nextMasks } = toStepBatch(this.obs, a, this.masks, result, this.nActions);
      this.step += this.n;
      const st = await agent.observe(batch, this.step);
      if (st) stats.push(st);
      this.obs = result[0];
      this.masks = nextMasks;
    }
    return { actions, stats, masks };
  }

  /**
   * Continues from `agent`'s checkpoint in `dir` twice: `agent` itself runs on, and a fresh agent from `create`, on
   * a copy of this driver, is first moved away from the saved state (one exploring act moves its RNG, and its
   * statistics where it keeps any: load must restore them), then loads `dir`. Both run `vectorSteps` steps; the
   * caller compares them and disposes `resumed.agent`.
   */
  async resumeFrom(agent: Agent, dir: string, create: (driver: Driver) => Agent, vectorSteps: number) {
    const copy = this.clone();
    const fresh = create(copy);
    await fresh.act(copy.obs, copy.n, true, null);
    await fresh.load(dir);
    const original = await this.run(agent, vectorSteps);
    const resumed = { ...(await copy.run(fresh, vectorSteps)), agent: fresh };
    return { original, resumed };
  }

  /** An independent copy in the same state. */
  clone(): Driver {
    const copy = new Driver(this.envId, this.n, 0, this.totalSteps);
    copy.envs.restore(structuredClone(this.envs.snapshot()));
    copy.obs = this.obs.slice();
    copy.masks = this.masks ? this.masks.slice() : null;
    copy.step = this.step;
    return copy;
  }
}
