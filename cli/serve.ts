/** `lab serve`: the live viewer's server (npm start). */
import { Command } from 'commander';
import { importOption, integer, loadPlugins, type ImportCliOptions } from './args.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../protocol/protocol.js';
import path from 'node:path';

/** A repeatable option's values, in order. */
const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('the live viewer: a web server that trains agents and streams their episodes to the browser')
    .option('--host <host>', 'address to bind (loopback by default; another address lets others on the network reach it, key required)', DEFAULT_HOST)
    .option('--port <n>', 'port', integer(0), DEFAULT_PORT)
    .option('--runs <dir>', 'runs directory (where runs started from the viewer are written, and stored runs are listed from)', 'runs')
    .option('--no-demo', 'do not start the demo run (DQN on CartPole-v1)')
    .option('--demo-steps <n>', 'env steps of the demo run', integer(1), 50_000)
    .option('--token <key>', 'the server\'s key (default: a new random one each start; LAB_TOKEN also sets it)')
    .option('--allow-host <name>', 'another name the server may be reached by (a reverse proxy\'s, the machine\'s DNS name), repeatable', collect, [])
    .option('--allow-origin <origin>', 'another origin treated as the lab\'s own page (e.g. http://localhost:5173 for npm run dev:viewer), repeatable', collect, [])
    .addOption(importOption())
    .action(async (opts: ImportCliOptions & { host: string; port: number; runs: string; demo: boolean; demoSteps: number; token?: string; allowHost: string[]; allowOrigin: string[] }) => {
      // Stored runs load their own plug-ins when read; --import adds modules to the catalog of envs.
      await loadPlugins(opts);
      const { startLabServer, isLoopback, VIEWER_DIST } = await import('../server/app.js');
      const { ensureViewerBuilt } = await import('../server/viewer_build.js');
      await ensureViewerBuilt(VIEWER_DIST, (m) => console.log(m));
      const token = opts.token ?? process.env.LAB_TOKEN;
      if (token !== undefined && !/^[A-Za-z0-9._~-]{16,200}$/.test(token)) throw new Error('--token: use 16 to 200 letters, digits, ".", "_", "~" or "-" (it goes into a link and a cookie)');
      const server = await startLabServer({
        host: opts.host,
        port: opts.port,
        runsDir: opts.runs,
        log: (m) => console.log(m),
        allowHosts: opts.allowHost,
        allowOrigins: opts.allowOrigin,
        ...(token ? { token } : {}),
      }).catch((e: unknown) => {
        const code = (e as NodeJS.ErrnoException | null)?.code;
        if (code === 'EADDRINUSE') throw new Error(`port ${opts.port} is in use (another lab serve?): pass --port <other> or stop the other server`);
        if (code === 'EACCES') throw new Error(`port ${opts.port} on ${opts.host} may not be used by this user: pass --port <other> (1024 or above)`);
        throw e;
      });
      console.log(`lab viewer: ${server.openUrl}`);
      console.log(`  open this link (it holds the server's key; without it the page can watch but not start runs)`);
      console.log(`  runs in ${path.resolve(opts.runs)}; Ctrl-C to stop`);
      if (!isLoopback(server.host)) console.warn(`warning: listening on ${server.host}: others on the network can reach it; every request needs the key above, sent in clear text over http (use a TLS reverse proxy or an SSH tunnel instead)`);
      console.log(`publish a training run from another terminal: npx lab train --env CartPole-v1 --agent a2c --live ${server.url}`);
      if (opts.demo) {
        const started = server.hub.start({ envId: 'CartPole-v1', agent: 'dqn', seed: 0, steps: opts.demoSteps });
        if (started.ok) {
          console.log(`demo run: ${started.run.runId} (DQN learning CartPole-v1; open the page to watch; once trained, its policy plays on)`);
          server.hub.watchPolicyWhenDone(started.run.runId);
        }
      }
      await new Promise<void>((resolve) => {
        let closing = false;
        const shutdown = () => {
          if (closing) process.exit(130);
          closing = true;
          console.log('\nshutting down: stopping runs (they write a checkpoint first)');
          void server.close().then(resolve);
        };
        process.once('SIGINT', shutdown);
        process.once('SIGTERM', shutdown);
      });
    });
}
