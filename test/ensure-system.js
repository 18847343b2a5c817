// `npm test` step 0: the Debian packages the browser and extension-host tests need (Chromium, and the
// toolchain code-server's native modules build with). Missing ones are installed with apt-get when
// running as root (as on CI and a fresh root machine); otherwise the one command to run is printed.
'use strict';
const childProcess = require('child_process');
const harness = require('./harness/harness');

function main() {
  const missing = harness.missingDebianPackages({ forInstall: true });
  if (missing.length === 0) return 0;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || process.platform !== 'linux') {
    process.stderr.write(
      `The tests need these Debian packages: ${missing.join(', ')}. Install them with:\n  sudo ${command}\n`,
    );
    return 1;
  }
  process.stdout.write(`installing Debian packages for the tests: ${missing.join(' ')}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update'], command.split(' ').slice(1)]) {
    const r = childProcess.spawnSync('apt-get', args, { stdio: 'inherit', env });
    if (r.status !== 0) {
      process.stderr.write(`apt-get ${args.join(' ')} failed (exit ${r.status}); run it by hand:\n  ${command}\n`);
      return 1;
    }
  }
  return 0;
}

process.exitCode = main();
