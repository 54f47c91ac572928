// Builds multidb's web UI: the API's TypeScript types generated from src/gateway/openapi.json (so the UI can
// only use what the API documents), a type check, and one esbuild bundle into the output directory
// (default web/dist): index.html, app.js, app.css. Fails when the bundle passes 400 kB gzipped.
//   node web/build.mjs [outdir]
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const webDir = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(process.argv[2] ?? join(webDir, 'dist'));
const bin = (name) => join(webDir, 'node_modules', '.bin', name);
const GZIP_LIMIT = 400 * 1024;

// 1. Types from the API's own document (web/gen is not committed: it is always the document's).
mkdirSync(join(webDir, 'gen'), { recursive: true });
execFileSync(bin('openapi-typescript'), [join(webDir, '..', 'src', 'gateway', 'openapi.json'), '-o',
  join(webDir, 'gen', 'openapi.d.ts')], { stdio: ['ignore', 'ignore', 'inherit'] });  // its banner is noise; errors stay

// 2. esbuild strips types without checking them; tsc checks them.
execFileSync(bin('tsc'), ['--noEmit', '-p', join(webDir, 'tsconfig.json')], { stdio: 'inherit' });

// 3. One bundle; the CSS the components import lands in app.css.
mkdirSync(outDir, { recursive: true });
await esbuild.build({
  entryPoints: { app: join(webDir, 'src', 'main.tsx') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome110', 'firefox115', 'safari16'],
  outdir: outDir,
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'linked',
  logLevel: 'warning',
});
copyFileSync(join(webDir, 'index.html'), join(outDir, 'index.html'));

// 4. What a browser downloads, gzipped.
let total = 0;
const lines = [];
for (const name of ['index.html', 'app.js', 'app.css']) {
  const size = gzipSync(readFileSync(join(outDir, name)), { level: 9 }).length;
  total += size;
  lines.push(`  ${name}: ${(size / 1024).toFixed(1)} kB gzipped`);
}
const report = `multidb web UI: ${(total / 1024).toFixed(1)} kB gzipped in all (limit ${GZIP_LIMIT / 1024} kB)\n${lines.join('\n')}\n`;
writeFileSync(join(outDir, 'bundle-size.txt'), report);
process.stdout.write(report);
if (total > GZIP_LIMIT) {
  console.error(`error: the web UI's bundle is ${(total / 1024).toFixed(1)} kB gzipped, over ${GZIP_LIMIT / 1024} kB`);
  process.exit(1);
}
