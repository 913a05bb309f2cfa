/**
 * The bundle of `lab export --html` pages: viewer/export/main.ts and everything it imports (the play view, envs,
 * renderers, Pixi, tfjs) as ONE script (no code splitting: a file:// page cannot load chunks), its CSS as one
 * file, and every asset inline (the tfjs wasm binaries become data: URLs). cli/export.ts inlines both files into
 * each exported HTML file. Built by `npm run build:viewer`, or by `lab export` when missing or out of date.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  // Never copy the viewer's public files or an index.html: only the script and the stylesheet matter.
  publicDir: false,
  build: {
    // (lab export builds into a temporary directory of its own and renames it to dist.)
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    cssCodeSplit: false,
    assetsInlineLimit: () => true,
    modulePreload: false,
    chunkSizeWarningLimit: 8000,
    reportCompressedSize: false,
    rolldownOptions: {
      input: fileURLToPath(new URL('./main.ts', import.meta.url)),
      output: {
        format: 'es',
        codeSplitting: false,
        entryFileNames: 'export.js',
        assetFileNames: 'export[extname]',
      },
    },
  },
});
