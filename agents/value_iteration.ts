/**
 * Value iteration on a tabular env's transition table `P[s][a] = [[p, s', r, terminated], …]`
 * (Sutton & Barto §4.4). Terminal transitions do not bootstrap. Returns the optimal state values and a greedy
 * policy; ties go to the lowest action index, so the result is deterministic.
 */
import type { TransitionTable } from '../envs/index.js';

export interface ValueIterationOptions {
  /** Discount factor in (0, 1]; with 1 every policy must reach a terminal state for convergence. */
  gamma?: number;
  /** Stop when no value changes by more than this. */
  tolerance?: number;
  maxIterations?: number;
}

export interface ValueIterationResult {
  values: Float64Array;
  policy: Int32Array;
  iterations: number;
  /** Largest value change in the last sweep. */
  delta: number;
}

function actionValue(P: TransitionTable, V: Float64Array, s: number, a: number, gamma: number): number {
  let q = 0;
  for (const [p, next, r, terminated] of P[s]![a]!) q += p * (r + (terminated ? 0 : gamma * V[next]!));
  return q;
}

export function valueIteration(P: TransitionTable, options: ValueIterationOptions = {}): ValueIterationResult {
  const { gamma = 0.99, tolerance = 1e-10, maxIterations = 100_000 } = options;
  if (!(gamma > 0 && gamma <= 1)) throw new Error(`valueIteration: gamma must be in (0, 1], got ${gamma}`);
  if (!Array.isArray(P) || P.length === 0) throw new Error('valueIteration: P must be a non-empty transition table');
  const nS = P.length;
  const V = new Float64Array(nS);
  let delta = Infinity;
  let iterations = 0;
  while (delta > tolerance && iterations < maxIterations) {
    delta = 0;
    for (let s = 0; s < nS; s++) {
      let best = -Infinity;
      for (let a = 0; a < P[s]!.length; a++) best = Math.max(best, actionValue(P, V, s, a, gamma));
      delta = Math.max(delta, Math.abs(best - V[s]!));
      V[s] = best; // in-place (Gauss–Seidel) sweep converges faster and to the same fixed point
    }
    iterations++;
  }
  const policy = new Int32Array(nS);
  for (let s = 0; s < nS; s++) {
    let best = -Infinity;
    for (let a = 0; a < P[s]!.length; a++) {
      const q = actionValue(P, V, s, a, gamma);
      if (q > best + 1e-12) [best, policy[s]] = [q, a];
    }
  }
  return { values: V, policy, iterations, delta };
}
