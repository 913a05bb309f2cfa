import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const target = 'http://127.0.0.1:3000';

export default defineConfig({
  root,
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
  },
  // Dev server: start the lab with `lab serve --allow-origin http://localhost:5173`, then open
  // http://localhost:5173/?token=<key>; the key link is handed to the lab server, which sets its cookie here.
  server: {
    proxy: {
      '^/\\?token=': { target, changeOrigin: true },
      '/socket.io': { target, ws: true, changeOrigin: true },
      '/api': { target, changeOrigin: true },
    },
  },
});
