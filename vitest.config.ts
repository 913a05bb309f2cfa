import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 30_000,
    // Lab servers started by tests write their runtime files (server keys) here, not in the user's home.
    env: { LAB_RUNTIME_DIR: path.join(os.tmpdir(), `lab-runtime-test-${process.pid}`) },
  },
});
