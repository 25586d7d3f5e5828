import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Component tests (test/renderer, `// @vitest-environment happy-dom`) import .vue files.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Tests (and the CLI processes they start) never touch the real ~/.config/ec2-connect.
    env: { EC2_CONNECT_HOME: mkdtempSync(path.join(os.tmpdir(), 'ec2c-test-home-')) },
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
