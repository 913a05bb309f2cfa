/** Argument parsers shared by the `lab` sub-commands (commander's custom option processing). */
import { InvalidArgumentError } from 'commander';
import { RUN_ID_PATTERN } from '../protocol/protocol.js';

/** An option value that must be a safe integer ≥ `min`. */
export function integer(min: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}, got '${value}'`);
    return n;
  };
}

/** A repeatable `key=value` option, the value parsed as JSON when it can be (numbers, booleans, arrays). */
export function keyValue(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got '${value}'`);
  const key = value.slice(0, eq);
  // No option or hyperparameter is named like a property every object inherits (`toString`, `__proto__`, …):
  // such a key would reach prototypes in lookups that forget to ask for own properties.
  const reserved = key.split('.').find(isReservedKey);
  if (reserved !== undefined) throw new InvalidArgumentError(`'${key}': '${reserved}' is not an option or hyperparameter name`);
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare string such as mapName=8x8
  }
  if (hasProtoKey(parsed)) throw new InvalidArgumentError(`'${key}': a value may not hold a "__proto__" key`);
  return { ...previous, [key]: parsed };
}

/** Names of properties every object inherits (and `prototype`): never a key of ours. */
export function isReservedKey(key: string): boolean {
  return key === 'prototype' || Object.hasOwn(Object.prototype, key);
}

/** Whether JSON data holds a `__proto__` key anywhere (JSON.parse makes it an own property). */
function hasProtoKey(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasProtoKey);
  if (typeof v !== 'object' || v === null) return false;
  return Object.keys(v).some((k) => k === '__proto__' || hasProtoKey((v as Record<string, unknown>)[k]));
}

/**
 * Checks a `--run-id` against the protocol's RUN_ID_PATTERN, so that every run the CLIs create can also be
 * announced to and listed by the live server.
 */
export function checkRunId(runId: string | undefined): void {
  if (runId !== undefined && !RUN_ID_PATTERN.test(runId)) {
    throw new InvalidArgumentError(`--run-id: '${runId}' is not a plain name (letters, digits, '.', '_', '-'; not starting with '.' or '-'; at most 200 characters)`);
  }
}

/**
 * The step the checkpoint pointer names, for the live server's curves of a resumed run; 0 when the pointer is
 * damaged (resume then reports which checkpoint it falls back to; the server starts the curves afresh).
 */
export function pointedStep(read: () => number | undefined): number {
  try {
    return read() ?? 0;
  } catch {
    return 0;
  }
}
