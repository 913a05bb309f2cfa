/**
 * The layers, enforced (npm test runs `npm run lint:deps`). Each folder imports only folders to its right:
 *
 *   bin → {cli → server} → sweep → {agents, gan, analysis} → lab → protocol → envs
 *
 * and the viewer only the protocol and the envs (their browser-safe modules: no node: builtin may be reachable
 * from viewer/src, however indirectly). Type-only imports count too, and so do dynamic
 * `import()`s: a cycle hidden behind one is still a cycle. docs/architecture.md explains the picture.
 */
const { builtinModules } = require('node:module');

const layer = (from, notTo, comment) => ({
  name: `${from}-not-to-${notTo.join('-')}`,
  comment,
  severity: 'error',
  from: { path: `^${from}/` },
  to: { path: `^(${notTo.join('|')})/` },
});

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no runtime import cycles, dynamic imports included (a cycle through type-only imports vanishes at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    layer('envs', ['protocol', 'lab', 'agents', 'gan', 'analysis', 'sweep', 'cli', 'server', 'bin', 'viewer'], 'environments are the bottom layer'),
    layer('protocol', ['lab', 'agents', 'gan', 'analysis', 'sweep', 'cli', 'server', 'bin', 'viewer'], 'the protocol knows only the envs (frame types)'),
    layer('lab', ['agents', 'gan', 'analysis', 'sweep', 'cli', 'server', 'bin', 'viewer'], 'lab is infrastructure: nothing built on it'),
    layer('agents', ['gan', 'analysis', 'sweep', 'cli', 'server', 'bin', 'viewer'], 'agents build on lab, not on their siblings'),
    layer('gan', ['agents', 'analysis', 'sweep', 'cli', 'server', 'bin', 'viewer'], 'the GAN builds on lab, not on its siblings'),
    layer('analysis', ['agents', 'gan', 'sweep', 'cli', 'server', 'bin', 'viewer'], 'analysis reads run directories through lab'),
    layer('sweep', ['cli', 'server', 'bin', 'viewer'], 'experiments run agents, GANs and analysis; the CLI and the server use them'),
    layer('server', ['cli', 'bin', 'viewer'], 'the server is started by the CLI, not the other way round'),
    layer('cli', ['bin', 'viewer'], 'commands are run by bin/lab.mjs'),
    {
      name: 'viewer-only-protocol-and-envs',
      comment: 'the browser viewer imports only the protocol and the envs (envs/browser.ts: the built-in envs without Node)',
      severity: 'error',
      // (the vite configs run in Node, not in the page)
      from: { path: '^viewer/', pathNot: 'vite\\.config\\.ts$' },
      // (pixi.js/unsafe-eval: a package subpath dependency-cruiser does not resolve; vite does)
      to: { path: '^(?!viewer/|protocol/|envs/|node_modules/|pixi\\.js/unsafe-eval$)' },
    },
    {
      name: 'viewer-no-node-builtins',
      comment: 'nothing the browser viewer loads may reach a Node builtin (node:path, worker_threads, ...), through any chain of imports',
      severity: 'error',
      from: { path: '^viewer/', pathNot: 'vite\\.config\\.ts$' },
      // (a reachable rule takes no dependencyTypes, so the builtins are named: node:* and Node's own list)
      to: { path: `^(node:.+|${builtinModules.join('|')})$`, reachable: true },
    },
    {
      name: 'examples-only-public-api',
      comment: "examples/ show the lab as a user's script sees it: only the public API (index.ts), each other and Node's modules",
      severity: 'error',
      from: { path: '^examples/' },
      to: { path: '^(?!index\\.ts$|examples/|node_modules/)', dependencyTypesNot: ['core'] },
    },
    {
      name: 'nothing-to-examples',
      comment: 'the lab never depends on its examples (tests run them as child processes)',
      severity: 'error',
      from: { pathNot: '^(examples|test)/' },
      to: { path: '^examples/' },
    },
    {
      name: 'not-to-tests-or-benchmarks',
      severity: 'error',
      from: { pathNot: '^(test|bench)/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|viewer/dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.mjs', '.json'] },
  },
};
