// One build per runtime: extension host (node/cjs, vscode external), worker, CLI, webview (browser).
// Flags: --production (minify, no sourcemaps), --watch.
const esbuild = require('esbuild');
const fs = require('fs');
const path = require('path');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

// mainFields: jsonc-parser's UMD main requires './impl/*' dynamically, which a bundle cannot resolve; its ESM build bundles.
const nodeCommon = { ...common, platform: 'node', format: 'cjs', target: 'node20', mainFields: ['module', 'main'] };

const builds = [
  { ...nodeCommon, entryPoints: ['src/extension/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  { ...nodeCommon, entryPoints: ['src/worker/workerMain.ts'], outfile: 'dist/worker.js' },
  // GEMM helper threads (src/engine/kernels/parallelGemm.ts looks for dist/gemm-helper.js next to the bundle)
  { ...nodeCommon, entryPoints: ['src/engine/kernels/gemmHelperWorker.ts'], outfile: 'dist/gemm-helper.js' },
  // Lag threads of the analysis worker (src/worker/lagPool.ts looks for dist/lag-worker.js next to the bundle)
  { ...nodeCommon, entryPoints: ['src/worker/lagWorker.ts'], outfile: 'dist/lag-worker.js' },
  { ...nodeCommon, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js', banner: { js: '#!/usr/bin/env node' } },
  {
    ...common,
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    entryPoints: ['webview/main.ts'],
    outfile: 'dist/webview.js',
  },
];
if (fs.existsSync(path.join(__dirname, 'tools/bench/bench.ts'))) {
  builds.push({ ...nodeCommon, entryPoints: ['tools/bench/bench.ts'], outfile: 'dist/bench.js' });
}

async function main() {
  if (watch) {
    const ctxs = await Promise.all(builds.map((b) => esbuild.context(b)));
    await Promise.all(ctxs.map((c) => c.watch()));
    console.log('esbuild: watching');
    return;
  }
  await Promise.all(builds.map((b) => esbuild.build(b)));
  const css = path.join(__dirname, 'webview/style.css');
  if (fs.existsSync(css)) fs.copyFileSync(css, path.join(__dirname, 'dist/webview.css'));
  fs.chmodSync(path.join(__dirname, 'dist/cli.js'), 0o755);
}

main().catch((e) => {
  console.error(e.message || e);
  process.exit(1);
});
