// Builds the JSON form of the OpenAPI document and the self-contained HTML
// reference page from docs/openapi.yaml, with the Redocly CLI installed here.
//
//   node tools/npm/build-api-docs.mjs SPEC.yaml REDOCLY.yaml OUT_DIR
//
// Writes OUT_DIR/openapi.json and OUT_DIR/docs.html. `redocly build-docs`
// prerenders the page but loads Redoc's script from a CDN; this inlines the
// copy of the same version from node_modules, so the page needs nothing from
// elsewhere, and fails when anything external is left.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, 'package.json'));
const [spec, config, out] = process.argv.slice(2);
if (!out) {
  console.error('usage: build-api-docs.mjs SPEC.yaml REDOCLY.yaml OUT_DIR');
  process.exit(2);
}

const redocly = join(here, 'node_modules', '.bin', 'redocly');
const quiet = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' };
const run = (args) => execFileSync(redocly, args, { env: quiet, stdio: ['ignore', 'ignore', 'inherit'] });

// Next to the results, so that the renames below stay on one file system.
const scratch = mkdtempSync(join(out, '.build-api-docs-'));
try {
  run(['bundle', spec, '--config', config, '--ext', 'json', '-o', join(scratch, 'openapi.json')]);
  run(['build-docs', spec, '--config', config, '--disableGoogleFont', '-o', join(scratch, 'raw.html')]);

  const redocDir = dirname(require.resolve('redoc/package.json', { paths: [dirname(require.resolve('@redocly/cli/package.json'))] }));
  const version = JSON.parse(readFileSync(join(redocDir, 'package.json'), 'utf8')).version;
  // Redoc shows Redocly's logo from its CDN in the menu, whatever the
  // options; a blank image of the same size keeps the page to itself.
  const logo = '"https://cdn.redoc.ly/redoc/logo-mini.svg"';
  const blank = '"data:image/svg+xml,%3Csvg xmlns=%27http://www.w3.org/2000/svg%27/%3E"';
  const bundle = readFileSync(join(redocDir, 'bundles', 'redoc.standalone.js'), 'utf8').replaceAll(logo, blank);
  if (bundle.includes('</script')) throw new Error('redoc.standalone.js contains </script and cannot be inlined');
  const cdnTag = `<script src="https://cdn.redocly.com/redoc/v${version}/bundles/redoc.standalone.js"></script>`;
  const raw = readFileSync(join(scratch, 'raw.html'), 'utf8');
  if (!raw.includes(cdnTag)) throw new Error(`build-docs did not reference Redoc ${version} as expected: ${cdnTag}`);
  // The prerendered markup is for readers without JavaScript. Hydrating it
  // fails: the CLI renders with its React and styled-components, the bundle
  // has its own. So the bundle renders the page afresh from the same state.
  const hydrate = 'Redoc.hydrate(__redoc_state, container);';
  if (!raw.includes(hydrate)) throw new Error(`build-docs did not call ${hydrate}`);
  // Function replacers: the bundle contains `$&` and friends.
  const html = raw.replace(cdnTag, () => `<script>${bundle}</script>`)
    .replace(hydrate, () => 'Redoc.init(__redoc_state.spec.data, __redoc_state.options, container);');
  const external = html.match(/<(script|link|img|iframe)\b[^>]*\b(src|href)="(https?:)?\/\/[^"]*"/gi);
  if (external) throw new Error(`the page still loads from elsewhere: ${external.join(', ')}`);

  writeFileSync(join(scratch, 'docs.html'), html);
  for (const name of ['openapi.json', 'docs.html']) renameSync(join(scratch, name), join(out, name));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
