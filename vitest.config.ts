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
    // Two test files at a time even on a 2-core machine (Vitest's default would be one): most
    // tests wait on sockets, child processes and Chromium rather than on the CPU, and the run
    // takes about half as long (8 -> 4.5 minutes here) with no timing-sensitive failures.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
