// `node --import ./test-support/ts-hooks.mjs <server>/src/main.ts` runs a server from its TypeScript
// sources in a process of its own, compiled on the fly by SWC with the same settings as vitest (decorator
// metadata included). Tests use it where a real process is the point: one they can SIGKILL.
import { readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { fileURLToPath } from 'node:url';
import { transformSync } from '@swc/core';
import { swcOptions } from './swc-options.mjs';

const root = new URL('../', import.meta.url);
const WORKSPACE_PACKAGES = {
  '@reward/server-kit/': 'libs/server-kit/src/',
};

registerHooks({
  resolve(specifier, context, nextResolve) {
    for (const [prefix, folder] of Object.entries(WORKSPACE_PACKAGES)) {
      if (specifier.startsWith(prefix)) {
        return { url: new URL(`${folder}${specifier.slice(prefix.length)}.ts`, root).href, shortCircuit: true };
      }
    }
    // NodeNext sources import './x.js' for what is './x.ts' until it is built.
    if (specifier.startsWith('.') && specifier.endsWith('.js') && context.parentURL?.endsWith('.ts')) {
      return { url: new URL(`${specifier.slice(0, -3)}.ts`, context.parentURL).href, shortCircuit: true };
    }
    return nextResolve(specifier, context);
  },
  load(url, context, nextLoad) {
    if (!url.startsWith('file:') || !url.endsWith('.ts')) return nextLoad(url, context);
    const filename = fileURLToPath(url);
    const { code } = transformSync(readFileSync(filename, 'utf8'), { ...swcOptions, filename, sourceMaps: 'inline' });
    return { format: 'module', source: code, shortCircuit: true };
  },
});
