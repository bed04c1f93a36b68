// How SWC compiles the TypeScript sources for tests: vitest (vitest.config.ts) and servers started as
// child processes (ts-hooks.mjs) share it. Decorator metadata is what Nest's dependency injection reads.
/** @type {import('@swc/core').Options} */
export const swcOptions = {
  jsc: {
    target: 'es2023',
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    keepClassNames: true,
  },
  module: { type: 'es6' },
};
