#!/usr/bin/env node
// `npm run test:e2e`: runs the UI-level end-to-end test (test/e2e/*.e2e.js) with mocha in plain Node,
// then prints mocha's summary and a plain "N passed, N failed, N skipped" line (skipped = pending checks).
// Exits non-zero on any failure, or when no check passed (the test must not pass vacuously).
'use strict';

const fs = require('fs');
const path = require('path');
const Mocha = require('mocha');
const harness = require('../harness/harness');

async function main() {
  const started = Date.now();
  const files = fs
    .readdirSync(__dirname)
    .filter((f) => f.endsWith('.e2e.js'))
    .sort()
    .map((f) => path.join(__dirname, f));
  // RNN_GRADIENTS_E2E_GREP: only the checks whose title contains it (the workbench is set up as for the whole run).
  const grep = process.env.RNN_GRADIENTS_E2E_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, reporter: 'spec', timeout: 120000, ...(grep ? { grep } : {}) });
  for (const file of files) mocha.addFile(file);
  await mocha.loadFilesAsync();
  const { stopSession } = require('./workbench.e2e.js');
  harness.installCleanupHandlers(async () => {
    await stopSession();
    await harness.killAllDescendants();
  });
  const stats = await new Promise((resolve) => {
    const runner = mocha.run(() => resolve(runner.stats));
  });
  await stopSession();
  await harness.killAllDescendants();
  const passed = stats.passes;
  const failed = stats.failures;
  const pending = stats.pending;
  harness.note(`e2e run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (passed === 0) process.stderr.write('[e2e] no check passed: treating the run as failed\n');
  console.log(`${passed} passed, ${failed} failed, ${pending} skipped`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main().catch((e) => {
  process.stderr.write(`${(e && e.stack) || e}\n`);
  process.exit(1);
});
