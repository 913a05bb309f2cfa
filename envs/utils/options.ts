/** Validation of env constructor options, shared by every env so typos fail the same clear way. */
import { EnvError } from '../core.js';
import { describeValue } from './seeding.js';

/** Throws unless `options` is a plain object (or undefined) whose keys are all in `known`. */
export function checkOptionNames<T extends object>(env: string, options: T | undefined, known: readonly string[]): T {
  if (options === undefined) return {} as T;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new EnvError(`${env}: options must be an object, got ${describeValue(options)}`);
  }
  const unknown = Object.keys(options).filter((k) => !known.includes(k));
  if (unknown.length) {
    throw new EnvError(
      `${env}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; valid options: ${known.join(', ')}`,
    );
  }
  return options;
}
