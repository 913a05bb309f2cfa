/**
 * From env observations to network inputs (observationEncoder, defined in protocol/saved_policy.ts: Box
 * observations as they are, flat or [H, W, C] planes for conv nets; Discrete ones one-hot) and what agents
 * need to know about action spaces.
 */
import { Discrete, type Space } from '../envs/index.js';

// The encoder is part of what a saved policy means, so it lives with the rest of that (browser-safe) in protocol/.
export { observationEncoder, type ObservationEncoder } from '../protocol/saved_policy.js';

/** An agent was given an action space it cannot act in (e.g. DQN on Pendulum's Box). */
export class ActionSpaceError extends Error {
  override name = 'ActionSpaceError';
  constructor(
    readonly space: Space,
    /** What the agent needs, e.g. "a Discrete action space". */
    readonly needs: string,
  ) {
    super(`needs ${needs}, not ${space}`);
  }

  /** The one-line message for a user: "dqn needs a Discrete action space; Pendulum-v1 has Box(-2, 2, (1,), float32)". */
  forRun(agent: string, envId: string): string {
    return `${agent} needs ${this.needs}; ${envId} has ${this.space}`;
  }
}

/** Number of actions of a Discrete action space, or an ActionSpaceError for other spaces (Box: continuous actions). */
export function discreteActions(space: Space): number {
  if (!(space instanceof Discrete)) throw new ActionSpaceError(space, 'a Discrete action space');
  if (space.start !== 0) throw new ActionSpaceError(space, 'a Discrete(n) action space starting at 0');
  return space.n;
}
