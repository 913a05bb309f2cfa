/** Argument parsers shared by the `lab` sub-commands (commander's custom option processing). */
import { InvalidArgumentError } from 'commander';

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
  const raw = value.slice(eq + 1);
  let parsed: unknown = raw;
  try {
    parsed = JSON.parse(raw);
  } catch {
    // a bare string such as mapName=8x8
  }
  return { ...previous, [value.slice(0, eq)]: parsed };
}
