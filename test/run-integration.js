#!/usr/bin/env node
// Runs the integration suite inside the real VS Code extension host, in three extension hosts one after the other
// (`runs` below): out/test/integration/index.js on a copy of test/fixtures, then two suites that need a workspace
// without model files and an extension host that has not activated the extension yet.
// Desktop route: VSCODE_EXECUTABLE=/path/to/code -> @vscode/test-electron runTests, once per run.
// Offline route (default): code-server 4.139.1 run by Node 24, driven through Debian's Chromium with
// playwright-core; the harness installs itself into .harness/ (or $RNN_GRADIENTS_HARNESS_DIR) on first use. One
// code-server and one Chromium serve every run: each run is a new page (a new window, so a new extension host).
// Ends with mocha's summary per run and a plain "N passed, N failed" line; exits non-zero on any failure.
'use strict';

const fs = require('fs');
const path = require('path');
const util = require('util');
const harness = require('./harness/harness');

const repoRoot = harness.repoRoot;
const integrationOut = path.join(repoRoot, 'out', 'test', 'integration');
/** Printed by run() in test/integration/index.ts with the counts as JSON. */
const resultMarker = 'RNN_GRADIENTS_INTEGRATION_RESULT';
/**
 * A test in the extension host asks for a click in a webview by logging this marker and a JSON object {button}: the
 * runner clicks that button (by its accessible name) in the workbench's webview frames with playwright, as a user
 * would, so the page's own message path is exercised (test/integration/helpers.ts clickInWebview).
 */
const uiClickMarker = 'RNN_GRADIENTS_UI_CLICK';

/** Clicks the first button named `request.button` in any webview frame (tries for 30 s); logs what happened. */
async function clickWebviewButton(page, json) {
  let name;
  try {
    name = JSON.parse(json).button;
  } catch {
    process.stderr.write(`[integration] unreadable click request: ${json}\n`);
    return;
  }
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      if (!frame.url().includes('webview')) continue;
      try {
        const button = frame.getByRole('button', { name, exact: true });
        if ((await button.count()) > 0) {
          await button.first().click({ timeout: 10000 });
          process.stderr.write(`[integration] clicked "${name}" in a webview\n`);
          return;
        }
      } catch {
        // A frame detached while looking: try the others, then again.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  process.stderr.write(`[integration] no button "${name}" in any webview frame within 30 s\n`);
}

/** Prefix of mocha's reporter lines (test/integration/index.ts). */
const reporterLinePrefix = '[rnn-gradients-test] ';
/** Whole-run limit (ms); the page never calls back when the extension host fails to start. */
const overallTimeoutMs = Number(process.env.RNN_GRADIENTS_INTEGRATION_TIMEOUT_MS || 15 * 60 * 1000);
/** How long after the page loads the suite's first mocha line may take before the host counts as "never started". */
const startTimeoutMs = Number(process.env.RNN_GRADIENTS_HOST_START_TIMEOUT_MS || 120 * 1000);

/** Collects the counts line from the forwarded mocha output. */
class ResultCollector {
  constructor() {
    this.counts = null;
  }
  /** Returns false for the marker line (not echoed), true for lines to print. */
  take(line) {
    const at = line.indexOf(resultMarker);
    if (at < 0) return true;
    try {
      this.counts = JSON.parse(line.slice(at + resultMarker.length).trim());
    } catch {
      process.stderr.write(`[integration] unreadable result line: ${line}\n`);
    }
    return false;
  }
}

/**
 * The extension hosts of one integration run, in order: each opens its own workspace (made in the run folder) and runs
 * the suite of its entry module (extensionTestsPath). The index.js of a folder below out/test/integration is left out
 * of the main suite (test/integration/index.ts findTestFiles).
 */
const runs = [
  {
    label: 'test/fixtures',
    entry: path.join(integrationOut, 'index.js'),
    makeWorkspace: (tmpDir) =>
      harness.copyFolder(path.join(repoRoot, 'test', 'fixtures'), path.join(tmpDir, 'workspace')),
  },
  {
    label: 'no model file, the extension activated by its API',
    entry: path.join(integrationOut, 'noModelWorkspace', 'activatedByApi', 'index.js'),
    makeWorkspace: (tmpDir) => makeNoModelWorkspace(tmpDir, 'no-model-api'),
  },
  {
    label: 'no model file, the extension activated by a JSONC file',
    entry: path.join(integrationOut, 'noModelWorkspace', 'activatedByJsonc', 'index.js'),
    makeWorkspace: (tmpDir) => makeNoModelWorkspace(tmpDir, 'no-model-jsonc'),
  },
];

function checkBuilt() {
  const missing = [];
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js')))
    missing.push('dist/extension.js (run `npm run build`)');
  for (const run of runs) {
    if (!fs.existsSync(run.entry))
      missing.push(`${path.relative(repoRoot, run.entry)} (run \`npm run compile-tests\`)`);
  }
  if (missing.length) {
    process.stderr.write(`[integration] missing build output:\n  ${missing.join('\n  ')}\n`);
    process.exit(1);
  }
}

/** A throwaway copy of test/fixtures/no-model-workspace (a JSONC file, no *.rnn.json) named `name`. */
function makeNoModelWorkspace(tmpDir, name) {
  return harness.copyFolder(path.join(repoRoot, 'test', 'fixtures', 'no-model-workspace'), path.join(tmpDir, name));
}

/** Desktop VS Code through @vscode/test-electron, one run; returns { exitCode, counts }. */
async function runDesktop(executable, workspace, extensionTestsPath) {
  const { runTests } = require('@vscode/test-electron');
  const collector = new ResultCollector();
  const originalWrite = process.stdout.write.bind(process.stdout);
  let pending = '';
  process.stdout.write = (chunk, ...rest) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop();
    const shown = lines.filter((l) => collector.take(l)).map((l) => l.split(reporterLinePrefix).join(''));
    return shown.length ? originalWrite(shown.join('\n') + '\n', ...rest) : true;
  };
  let exitCode;
  try {
    exitCode = await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath,
      launchArgs: [workspace, '--disable-extensions'],
    });
  } catch (e) {
    process.stderr.write(`[integration] VS Code at ${executable} failed: ${e && e.message ? e.message : e}\n`);
    exitCode = 1;
  } finally {
    if (pending && collector.take(pending)) originalWrite(pending.split(reporterLinePrefix).join('') + '\n');
    process.stdout.write = originalWrite;
  }
  return { exitCode, counts: collector.counts };
}

/** Formats what the extension host sent through codeAutomationLog. */
function formatLog(args) {
  if (Array.isArray(args)) return util.format(...args);
  if (typeof args === 'string') return args;
  return util.inspect(args);
}

/**
 * One run in a new page of the browser (a new window, hence a new extension host) on `run.workspace`; resolves with
 * { exitCode, counts, failure } (failure: why no exit code came back, '' when one did).
 */
async function runInPage(browser, server, run, { consoleLog, t0 }) {
  const collector = new ResultCollector();
  fs.appendFileSync(consoleLog, `===== ${run.label}: ${run.workspace}\n`);
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    /** Set by the first line from the suite's run() in the extension host. */
    let hostStarted = false;
    let exitResolve;
    const exited = new Promise((resolve) => (exitResolve = resolve));
    let buffered = '';
    const debug = Boolean(process.env.RNN_GRADIENTS_DEBUG);
    const showLine = (line) => {
      if (line.includes(reporterLinePrefix) || line.includes(resultMarker)) hostStarted = true;
      const click = line.indexOf(uiClickMarker);
      if (click >= 0) {
        void clickWebviewButton(page, line.slice(click + uiClickMarker.length).trim());
        return;
      }
      if (!collector.take(line)) return;
      const at = line.indexOf(reporterLinePrefix);
      if (at >= 0) process.stdout.write(`${line.slice(at + reporterLinePrefix.length)}\n`);
      else if (debug) process.stderr.write(`[workbench] ${line}\n`);
      fs.appendFileSync(consoleLog, `${line}\n`);
    };
    // Everything the workbench logs arrives here, the extension host's console included: mocha's
    // prefixed lines go to stdout, the rest to workbench-console.log (printed on failure).
    await page.exposeFunction('codeAutomationLog', (type, args) => {
      buffered += formatLog(args) + '\n';
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) showLine(line);
    });
    await page.exposeFunction('codeAutomationExit', (code) => {
      exitResolve(typeof code === 'number' ? code : Number(code));
    });
    if (debug) {
      page.on('console', (m) => process.stderr.write(`[page ${m.type()}] ${m.text()}\n`));
      page.on('pageerror', (e) => process.stderr.write(`[page error] ${e.message}\n`));
    }

    const url = harness.workbenchUrl(server, run.workspace, [
      ['extensionDevelopmentPath', harness.remoteUri(server.port, repoRoot)],
      ['extensionTestsPath', harness.remoteUri(server.port, run.entry)],
      ['skipWelcome', 'true'],
    ]);
    harness.note(`opening the workbench on ${run.workspace}`);
    const pageLoaded = Date.now();
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 60000 });

    let timer;
    const watchdog = new Promise((resolve) => {
      timer = setInterval(() => {
        const now = Date.now();
        if (server.exited()) resolve({ reason: 'code-server exited during the run' });
        else if (now - t0 > overallTimeoutMs) resolve({ reason: `timed out after ${overallTimeoutMs / 1000} s` });
        else if (!hostStarted && now - pageLoaded > startTimeoutMs) {
          resolve({
            reason: `the extension host never started the suite (no mocha output within ${startTimeoutMs / 1000} s)`,
          });
        }
      }, 500);
    });
    const outcome = await Promise.race([exited.then((code) => ({ code })), watchdog]);
    clearInterval(timer);
    if (buffered) showLine(buffered);
    if (!('code' in outcome)) return { exitCode: 1, counts: collector.counts, failure: outcome.reason };
    harness.note(
      `extension host finished with exit code ${outcome.code} (${((Date.now() - pageLoaded) / 1000).toFixed(1)} s after the page opened)`,
    );
    return { exitCode: outcome.code, counts: collector.counts, failure: '' };
  } finally {
    await Promise.race([page.close().catch(() => undefined), harness.sleep(5000)]);
  }
}

/** code-server + Chromium, the runs one after the other; returns one { exitCode, counts } per run started. */
async function runOffline(tmpDir, planned) {
  const paths = await harness.ensureHarness();
  const dataDir = path.join(tmpDir, 'data');
  const extDir = path.join(tmpDir, 'extensions');
  fs.mkdirSync(extDir, { recursive: true });
  let server;
  let browser;
  const cleanup = async () => {
    await harness.closeBrowser(browser);
    browser = undefined;
    if (server) await server.stop();
    await harness.killAllDescendants();
  };
  harness.installCleanupHandlers(cleanup);

  const consoleLog = path.join(tmpDir, 'workbench-console.log');
  const results = [];
  let failure = '';
  try {
    const t0 = Date.now();
    server = await harness.startCodeServer(paths, { tmpDir, dataDir, extDir });
    harness.note(`code-server listening on ${server.baseUrl} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    browser = await harness.launchChromium(paths);
    for (const [index, run] of planned.entries()) {
      harness.note(`run ${index + 1}/${planned.length}: ${run.label}`);
      const result = await runInPage(browser, server, run, { consoleLog, t0 });
      results.push(result);
      if (result.failure) process.stderr.write(`[integration] ${run.label}: ${result.failure}\n`);
      // Without code-server or past the overall limit, the later runs could not start either.
      if (server.exited() || Date.now() - t0 > overallTimeoutMs) break;
    }
  } catch (e) {
    failure = e instanceof harness.HarnessError ? e.message : (e && e.stack) || String(e);
  }
  if (failure) process.stderr.write(`[integration] ${failure}\n`);
  const failed = (r) => r.failure || r.exitCode !== 0 || !r.counts || r.counts.failed > 0;
  if (failure || results.length < planned.length || results.some(failed)) {
    process.stderr.write(
      `----- workbench console, extension host included (last 40 lines; full: ${consoleLog}) -----\n`,
    );
    process.stderr.write(`${harness.tailFile(consoleLog, 40)}\n`);
    harness.printLogTails(server, dataDir);
  }
  await cleanup();
  return results;
}

async function main() {
  checkBuilt();
  const started = Date.now();
  const tmpDir = harness.makeTempDir('integration');
  const planned = runs.map((run) => ({ ...run, workspace: run.makeWorkspace(tmpDir) }));
  const executable = process.env.VSCODE_EXECUTABLE;
  let results;
  try {
    if (executable) {
      harness.note(`desktop route: ${executable}`);
      results = [];
      for (const [index, run] of planned.entries()) {
        harness.note(`run ${index + 1}/${planned.length}: ${run.label}`);
        results.push(await runDesktop(executable, run.workspace, run.entry));
      }
    } else {
      results = await runOffline(tmpDir, planned);
    }
  } catch (e) {
    process.stderr.write(`${e instanceof harness.HarnessError ? e.message : (e && e.stack) || e}\n`);
    results = [];
  }
  if (harness.wasInterrupted()) return;
  let passed = 0;
  let failed = 0;
  let pending = 0;
  let ok = results.length === planned.length;
  for (const [index, { exitCode, counts }] of results.entries()) {
    if (!counts)
      process.stderr.write(`[integration] no test results came back from run ${index + 1} (${planned[index].label})\n`);
    passed += counts ? counts.passed : 0;
    failed += counts ? counts.failed : 0;
    pending += counts ? counts.pending : 0;
    if (exitCode !== 0 || !counts || counts.failed > 0) ok = false;
  }
  if (results.length < planned.length)
    process.stderr.write(`[integration] ${planned.length - results.length} run(s) did not start\n`);
  ok = ok && failed === 0 && passed > 0;
  if (ok) fs.rmSync(tmpDir, { recursive: true, force: true });
  else process.stderr.write(`[integration] run folder kept for inspection: ${tmpDir}\n`);
  harness.note(`integration run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed${pending ? `, ${pending} skipped` : ''}`);
  process.exit(ok ? 0 : 1);
}

main();
