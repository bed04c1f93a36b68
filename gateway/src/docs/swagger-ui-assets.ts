import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** Swagger UI's files, served by the gateway itself (no CDN): only these names, from swagger-ui-dist. */
const DIST_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

export const INIT_SCRIPT_NAME = 'docs-init.js';

/** Every file the page loads, each a line of the gateway's policy table (`/docs/<name>`). */
export const SWAGGER_UI_FILES: readonly string[] = [...Object.keys(DIST_FILES), INIT_SCRIPT_NAME];

/**
 * Loads the merged document, points "Try it out" at the gateway the page came from (whatever host and
 * port it is reached on); the bearer token from "Authorize" stays in the page only, and one an earlier version
 * kept in the browser's storage is removed.
 */
const INIT_SCRIPT = `window.addEventListener('load', function () {
  try { window.localStorage.removeItem('authorized'); } catch (ignored) {}
  fetch('/openapi.json')
    .then(function (response) { return response.json(); })
    .then(function (spec) {
      spec.servers = [{ url: window.location.origin, description: 'This gateway' }];
      window.ui = SwaggerUIBundle({
        spec: spec,
        dom_id: '#swagger-ui',
        presets: [SwaggerUIBundle.presets.apis],
        layout: 'BaseLayout',
        deepLinking: true,
        // The token typed in stays in the page only: kept, it outlived the tab in the browser's localStorage.
        persistAuthorization: false,
        displayOperationId: true,
      });
    });
});
`;

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Reward platform API</title>
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" sizes="32x32" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/${INIT_SCRIPT_NAME}"></script>
  </body>
</html>
`;

export interface Asset {
  type: string;
  body: Buffer;
}

const distDir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const cache = new Map<string, Asset>();

/** One of the UI's files by name, or undefined for any other name. */
export function swaggerUiAsset(name: string): Asset | undefined {
  const cached = cache.get(name);
  if (cached) return cached;
  let asset: Asset | undefined;
  if (name === INIT_SCRIPT_NAME) asset = { type: 'text/javascript; charset=utf-8', body: Buffer.from(INIT_SCRIPT) };
  else if (Object.hasOwn(DIST_FILES, name)) asset = { type: DIST_FILES[name] as string, body: readFileSync(join(distDir, name)) };
  if (asset) cache.set(name, asset);
  return asset;
}
