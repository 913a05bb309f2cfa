/**
 * Env warnings (Gymnasium's `logger.warn`) that work in Node and in a page: Node's process warnings (shown once
 * on stderr, catchable with process.on('warning')), the console where there is no Node process.
 */
type WarningProcess = { emitWarning?: (message: string, type: string) => void };

export function emitEnvWarning(message: string): void {
  const proc = (globalThis as { process?: WarningProcess }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, 'EnvWarning');
  else console.warn(`EnvWarning: ${message}`);
}
