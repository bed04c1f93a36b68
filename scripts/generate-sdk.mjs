// Regenerates sdk/src/generated from the committed merged OpenAPI document (npm run sdk).
// openapi-typescript-codegen writes extensionless relative imports; the SDK is NodeNext ESM, so every relative
// import gets its `.js` extension, then each file is formatted with the repository's Prettier config so the output
// is byte-for-byte the same on every run (CI checks it is not stale).
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import codegen from 'openapi-typescript-codegen';
import * as prettier from 'prettier';

const root = fileURLToPath(new URL('..', import.meta.url));
const output = join(root, 'sdk/src/generated');

// The codegen narrows a oneOf member's `type` to the LAST discriminator mapping that names it, so
// CompositeCondition (mapped from both ALL and ANY) would only accept 'ANY'. Without the discriminator it keeps the
// member's own enum ('ALL' | 'ANY'); the oneOf union of literal-typed members still narrows on `type` in TypeScript.
const withoutDiscriminators = (node) => {
  if (Array.isArray(node)) return node.map(withoutDiscriminators);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([key]) => key !== 'discriminator')
      .map(([key, value]) => [key, withoutDiscriminators(value)]),
  );
};
const spec = withoutDiscriminators(JSON.parse(await readFile(join(root, 'openapi/openapi.json'), 'utf8')));

await rm(output, { recursive: true, force: true });
await codegen.generate({
  input: spec,
  output,
  httpClient: 'fetch',
  clientName: 'RewardApiClient',
  useOptions: true,
  useUnionTypes: true,
  exportCore: true,
  exportServices: true,
  exportModels: true,
  exportSchemas: false,
});

async function* files(dir) {
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.name.endsWith('.ts')) yield path;
  }
}

const withExtensions = (source) =>
  source.replace(/(from\s+['"])(\.{1,2}\/[^'"]+?)(['"])/g, (_match, before, specifier, after) =>
    specifier.endsWith('.js') ? `${before}${specifier}${after}` : `${before}${specifier}.js${after}`,
  );

const config = (await prettier.resolveConfig(join(root, 'package.json'))) ?? {};
for await (const path of files(output)) {
  const source = withExtensions(await readFile(path, 'utf8'));
  await writeFile(path, await prettier.format(source, { ...config, filepath: path }));
}
