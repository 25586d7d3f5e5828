import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vitest/config';

// Tests (and the CLI processes they start) never touch the real ~/.config/ec2-connect; the
// global setup removes this folder at the end of the run.
const testHome = mkdtempSync(path.join(os.tmpdir(), 'ec2c-test-home-'));
process.env.EC2_CONNECT_TEST_HOME = testHome;

export default defineConfig({
  // Component tests (test/renderer, `// @vitest-environment happy-dom`) import .vue files.
  plugins: [vue()],
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    env: { EC2_CONNECT_HOME: testHome },
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
