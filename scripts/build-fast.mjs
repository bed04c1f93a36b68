#!/usr/bin/env node
// The quick build `npm start` uses: SWC emits each server package's JavaScript into its dist/ (the same
// options as the tests, decorator metadata included), file by file and without type information, so the
// three servers are runnable in a second or two. `tsc` stays the type check (`npm run check`) and the build
// of record (`npm run build`: declarations for the workspaces, the Docker image, `npm run openapi`).
//
// A package whose sources, SWC options and SWC version are unchanged since its last build is skipped: the
// stamp is a hash of all of them, kept in dist/.build-stamp. A changed package loses the modules no source
// emits any more, so a deleted source file never leaves a stale module behind.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { transform } from '@swc/core';
import { swcOptions } from '../test-support/swc-options.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** What `npm start` runs: the shared kit and the three servers (the SDK is not part of it). */
export const SERVER_PACKAGES = ['libs/server-kit', 'auth-server', 'event-server', 'gateway'];
const STAMP = '.build-stamp';

/** What tsconfig.build.json leaves out of a package's build: tests and test helpers. */
function isShipped(path) {
  return (
    path.endsWith('.ts') &&
    !path.endsWith('.d.ts') &&
    !path.endsWith('.spec.ts') &&
    !path.endsWith('.int-spec.ts') &&
    !path.split('/').includes('testing')
  );
}

async function sourcesOf(srcDir) {
  const entries = await readdir(srcDir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(srcDir, join(entry.parentPath, entry.name)).split('\\').join('/'))
    .filter(isShipped)
    .sort();
}

const toolchain = (async () => {
  const swcVersion = createRequire(import.meta.url)('@swc/core/package.json').version;
  const options = await readFile(join(root, 'test-support', 'swc-options.mjs'), 'utf8');
  const self = await readFile(fileURLToPath(import.meta.url), 'utf8');
  return `${swcVersion}\n${options}\n${self}`;
})();

/** Builds one package unless its stamp says nothing changed; returns what it did. */
export async function buildPackage(pkg) {
  const srcDir = join(root, pkg, 'src');
  const distDir = join(root, pkg, 'dist');
  const files = await sourcesOf(srcDir);
  const contents = await Promise.all(files.map((file) => readFile(join(srcDir, file))));
  const hash = createHash('sha256').update(await toolchain);
  files.forEach((file, i) => hash.update(`\0${file}\0`).update(contents[i]));
  const stamp = hash.digest('hex');
  const previous = await readFile(join(distDir, STAMP), 'utf8').catch(() => '');
  if (previous === stamp) return { pkg, built: false, files: files.length };

  // What no source emits any more goes (a deleted or renamed file); the declarations `tsc` wrote stay for
  // the type check, which rebuilds them anyway.
  const emitted = new Set(files.flatMap((file) => [file.replace(/\.ts$/, '.js'), file.replace(/\.ts$/, '.js.map')]));
  const existing = await readdir(distDir, { recursive: true, withFileTypes: true }).catch(() => []);
  await Promise.all(
    existing
      .filter((entry) => entry.isFile() && /\.js(\.map)?$/.test(entry.name))
      .map((entry) => join(entry.parentPath, entry.name))
      .filter((path) => !emitted.has(relative(distDir, path).split('\\').join('/')))
      .map((path) => rm(path, { force: true })),
  );
  await Promise.all(
    files.map(async (file, i) => {
      const filename = join(srcDir, file);
      const out = join(distDir, file.replace(/\.ts$/, '.js'));
      const { code, map } = await transform(contents[i].toString('utf8'), {
        ...swcOptions,
        filename,
        sourceMaps: true,
        sourceFileName: relative(dirname(out), filename).split('\\').join('/'),
      });
      await mkdir(dirname(out), { recursive: true });
      const mapName = `${out.slice(dirname(out).length + 1)}.map`;
      await writeFile(out, `${code}\n//# sourceMappingURL=${mapName}\n`);
      if (map) await writeFile(`${out}.map`, map);
    }),
  );
  await writeFile(join(distDir, STAMP), stamp);
  return { pkg, built: true, files: files.length };
}

/** Builds every server package (in parallel); SWC itself spreads the work over its own threads. */
export function buildServers() {
  return Promise.all(SERVER_PACKAGES.map(buildPackage));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const startedAt = performance.now();
  const results = await buildServers();
  const built = results.filter((result) => result.built).map((result) => result.pkg);
  const ms = Math.round(performance.now() - startedAt);
  console.log(built.length > 0 ? `built ${built.join(', ')} with SWC in ${ms} ms` : `nothing changed (${ms} ms)`);
}
