// Installs (or checks) the offline VS Code harness: `node test/harness/install.js`.
'use strict';
const harness = require('./harness');

harness.installCleanupHandlers(() => undefined);
const started = Date.now();
harness
  .ensureHarness()
  .then((paths) => {
    harness.note(`harness ready in ${paths.dir} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  })
  .catch((e) => {
    process.stderr.write(`${e instanceof harness.HarnessError ? e.message : e.stack || e}\n`);
    process.exit(2);
  });
