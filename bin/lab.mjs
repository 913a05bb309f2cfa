#!/usr/bin/env node
// Entry point of the `lab` command: loads the TypeScript sources through tsx, then runs the CLI.
import { register } from 'tsx/esm/api';

// `lab envs | head` closes the pipe early: stop quietly instead of crashing on EPIPE.
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv);
