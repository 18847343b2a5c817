#!/usr/bin/env node
// `npm run sandbox`: code-server with this extension loaded as a development extension and examples/
// open (the golden fixtures when examples/ holds no model). Prints the local URL; runs until Ctrl+C.
// Set SANDBOX_PORT to choose the port; rebuild with `npm run watch` in another terminal and reload.
'use strict';

const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const harness = require('./harness/harness');

async function main() {
  const paths = await harness.ensureHarness();
  if (!fs.existsSync(path.join(harness.repoRoot, 'dist', 'extension.js'))) {
    harness.note('building the extension (npm run build)');
    childProcess.execFileSync(process.execPath, [path.join(harness.repoRoot, 'esbuild.js')], {
      cwd: harness.repoRoot,
      stdio: 'inherit',
    });
  }
  const tmpDir = harness.makeTempDir('sandbox');
  const dataDir = path.join(tmpDir, 'data');
  const extDir = path.join(tmpDir, 'extensions');
  fs.mkdirSync(extDir, { recursive: true });
  let server;
  let stopping = false;
  harness.installCleanupHandlers(async () => {
    stopping = true;
    if (server) await server.stop();
    await harness.killAllDescendants();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  });

  const wanted = process.env.SANDBOX_PORT ? Number(process.env.SANDBOX_PORT) : undefined;
  server = await harness.startCodeServer(paths, { tmpDir, dataDir, extDir, port: wanted });
  const folder = harness.exampleFolder();
  const url = harness.workbenchUrl(server, folder, [
    ['extensionDevelopmentPath', harness.remoteUri(server.port, harness.repoRoot)],
    ['skipWelcome', 'true'],
  ]);
  console.log(`\nRNN Gradients sandbox: ${folder} with the extension from ${harness.repoRoot}\n\n  ${url}\n`);
  console.log(`Open the URL in a browser on this machine (or forward port ${server.port}). Ctrl+C stops the server.`);
  console.log(`Server log: ${server.logFile}`);
  await new Promise((resolve) => server.proc.on('exit', resolve));
  if (stopping) return;
  harness.note('code-server exited by itself');
  process.exit(1);
}

main().catch((e) => {
  process.stderr.write(`${e instanceof harness.HarnessError ? e.message : (e && e.stack) || e}\n`);
  process.exit(2);
});
