import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';
import { swcOptions } from './test-support/swc-options.mjs';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Tests run the TypeScript sources directly: the workspace packages resolve to their src/ here,
// to their built dist/ at run time.
export default defineConfig({
  plugins: [swc.vite(swcOptions)],
  resolve: {
    alias: [
      { find: /^@reward\/server-kit\/(.*)$/, replacement: here('./libs/server-kit/src/$1.ts') },
      { find: /^@reward\/auth-server\/server$/, replacement: here('./auth-server/src/server.ts') },
      { find: /^@reward\/event-server\/server$/, replacement: here('./event-server/src/server.ts') },
      { find: /^@reward\/gateway\/server$/, replacement: here('./gateway/src/server.ts') },
      { find: /^@reward\/sdk$/, replacement: here('./sdk/src/index.ts') },
    ],
  },
  test: {
    include: ['{libs/*,auth-server,event-server,gateway}/src/**/*.{spec,int-spec}.ts', 'e2e/**/*.e2e-spec.ts'],
    globalSetup: ['./test-support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // In CI a JSON report lets .ci/run print a plain "N passed, N failed" line after vitest's summary.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.tmp/vitest-results.json' }]] : ['default'],
  },
});
