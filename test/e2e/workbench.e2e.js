// UI-level end-to-end test: the packaged .vsix installed into code-server, the workbench driven through
// Chromium as a person would (Explorer, Problems panel, F1 command palette, report webview).
// Every check runs and fails when its feature is missing (nothing is skipped by reading the bundle).
// Run by test/e2e/run-e2e.js (`npm run test:e2e`).
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const harness = require('../harness/harness');
const { startWorkbench } = require('../harness/workbench');

const repoRoot = harness.repoRoot;
const resultsDir = path.join(repoRoot, 'test-results');
const extensionId = 'rnn-gradients.rnn-gradients';
/** Models preferred for the Explorer and analysis checks; else the first model in the workspace. */
const preferredModels = ['rnn-tanh.rnn.json', 'healthy-lstm.rnn.json'];
/** A model with a deliberate error, written into the workspace copy, for the Problems panel. */
const brokenModelName = 'broken-model.rnn.json';
/** A folder of checkpoints (model files of one training run) written into the workspace copy, for the timeline. */
const timelineFolder = 'timeline-run';
const timelineSource = path.join(repoRoot, 'test', 'fixtures', 'timeline-models');

/** The model whose findings and clipping the panel's actions (Jump, Apply, Export) are tried on. */
const actionModelName = 'exploding-tanh.rnn.json';
/** A long analysis (test/fixtures/workspace/long-run.rnn.json) for the progress notification, Cancel and the timeout. */
const longModelName = 'long-run.rnn.json';

/**
 * A long model for Cancel during a partial report, with a text no analysis saw before (a comment with the run's time):
 * test/fixtures/workspace/responsiveness-panel.rnn.json (one lstm layer, 2 sequences of 800 steps) with 2400 steps.
 * Its lag table is sampled under the default rnnGradients.lagBudgetSeconds (a quick first report); its exact table
 * (the panel's "Compute the exact lag table", with progress and Cancel) sends a partial report (short lags) long
 * before its end.
 */
const partialModelName = 'partial-then-cancel.rnn.json';
/**
 * A small model (rnn tanh, 32 units, 2 sequences of 300 steps) whose exact lag table takes about a second; the
 * integration and browser tests of the exact lag table use the same file.
 */
const exactModelName = 'exact-on-request.rnn.json';
const exactModelText = fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'models', exactModelName), 'utf8');

/** The state shared by the tests: server, browser, page, folders. */
const session = {
  tmpDir: '',
  vsix: '',
  packageError: '',
  modelName: '',
  workspace: '',
  dataDir: '',
  extDir: '',
  server: undefined,
  browser: undefined,
  page: undefined,
  /** Reports the built CLI computes for the workspace's models, by file name (the values the panel must show). */
  reports: {},
};

/** Stops the browser and code-server; safe to call more than once. */
async function stopSession() {
  await harness.closeBrowser(session.browser);
  session.browser = undefined;
  if (session.server) await session.server.stop();
  session.server = undefined;
}

/**
 * Packages the extension with the project's own command, `npm run package` (@vscode/vsce, no
 * dependencies: the bundles are self-contained; base URLs for the README's relative links, since the
 * project has no public repository vsce could derive them from), and copies the .vsix into the run
 * folder. Returns { vsix, error }: error is the command's output tail when packaging failed.
 */
function packageExtension(outDir) {
  const vsix = path.join(outDir, 'rnn-gradients.vsix');
  const built = path.join(repoRoot, 'rnn-gradients.vsix');
  fs.rmSync(built, { force: true });
  const r = childProcess.spawnSync('npm', ['run', 'package'], {
    cwd: repoRoot,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 180000,
  });
  if (r.status !== 0 || !fs.existsSync(built)) {
    throw new Error(
      `npm run package failed (${r.signal || `exit ${r.status}`}):\n${harness.tailText(`${r.stdout}${r.stderr}`, 30)}`,
    );
  }
  fs.copyFileSync(built, vsix);
  return { vsix, error: '' };
}

/** Saves a screenshot of the whole page under test-results/. */
async function screenshot(name) {
  if (!session.page) return undefined;
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `${name}.png`);
  await session.page.screenshot({ path: file }).catch(() => undefined);
  return file;
}

/** Clicks an Explorer row whose label contains `name` and waits for its editor tab. */
async function openFromExplorer(name) {
  const page = session.page;
  const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${name}"]`).first();
  // A file the test has just written may reach the Explorer late (its file watcher was seen to miss one right after
  // the workbench started): after 10 s the Explorer is refreshed by its command, once.
  const since = Date.now();
  let refreshed = false;
  await until(
    `${name} in the Explorer`,
    async () => {
      if (await row.isVisible()) return true;
      if (!refreshed && Date.now() - since > 10000) {
        refreshed = true;
        await runCommand('File: Refresh Explorer');
      }
      return false;
    },
    60000,
  );
  await row.click();
  await page
    .locator(`.tabs-container .tab[aria-label*="${name}"]`)
    .first()
    .waitFor({ state: 'visible', timeout: 30000 });
}

/**
 * All notifications ({ text, error }), read from the notification center (opened through its status bar bell,
 * since headless Chromium shows no toasts), which is closed again afterwards.
 */
async function notificationTexts() {
  const page = session.page;
  const bell = page.locator('[id="status.notifications"]');
  const center = page.locator('.notifications-center');
  // A click on the bell toggles the center: open it only when it is closed.
  if (!(await center.isVisible())) await bell.click({ timeout: 10000 });
  await center.waitFor({ state: 'visible', timeout: 10000 });
  const items = await page.locator('.notifications-center .notification-list-item').evaluateAll((els) =>
    els.map((e) => ({
      text: (e.textContent || '').replace(/\s+/g, ' ').trim(),
      error: Boolean(e.querySelector('.codicon-error')),
    })),
  );
  await bell.click({ timeout: 10000 });
  return items;
}

/** Lines of the server-side extension host logs (activation events are recorded there). */
function extensionHostLog() {
  const logs = path.join(session.dataDir, 'logs');
  const lines = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^(remote)?exthost\.log$/i.test(e.name)) lines.push(...fs.readFileSync(p, 'utf8').split('\n'));
    }
  };
  if (fs.existsSync(logs)) walk(logs);
  return lines;
}

/**
 * Clicks a context menu item. A click that lands as the menu opens can be dropped by the workbench's menu (a clean-clone
 * CI run under load left the Explorer's menu open with the item highlighted and nothing run): when the menu is still
 * open 3 s later, the item is clicked once more. A click that ran the item closed the menu, so it is never run twice.
 */
async function clickMenuItem(item) {
  await item.click();
  try {
    await item.waitFor({ state: 'hidden', timeout: 3000 });
  } catch {
    console.log('    the menu stayed open after the click: clicking its item again');
    await item.click();
  }
}

/** Polls `check` (async; a truthy value ends it) until it succeeds or `timeoutMs` passes; returns the value. */
async function until(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await check().catch((e) => {
      last = e;
      return undefined;
    });
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await harness.sleep(500);
  }
}

/**
 * Opens the F1 palette (again after Escape when the first F1 did not reach the workbench, e.g. with the focus in a
 * webview), types `label` and waits for its row: the command whose label, after its category, is exactly `label`.
 */
async function paletteRow(label) {
  const page = session.page;
  const input = page.locator('.quick-input-widget input');
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('Escape');
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 10000 });
      break;
    } catch (e) {
      if (attempt >= 2) throw e;
      // Give the focus back to the workbench (the Explorer's title), then try again.
      await page.locator('.part.sidebar .composite.title').first().click();
    }
  }
  await page.keyboard.type(label);
  const exact = new RegExp(`(^|: )${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: 30000 });
  return row;
}

/** Runs a command from the F1 palette by its label (see paletteRow) and waits for the palette to close. */
async function runCommand(label) {
  await (await paletteRow(label)).click();
  await session.page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 30000 });
}

/** The webview frame whose page satisfies `test` (evaluated in the frame), or undefined. */
async function findFrame(test, arg) {
  for (const frame of session.page.frames()) {
    if (!frame.url().includes('webview')) continue;
    if (await frame.evaluate(test, arg).catch(() => false)) return frame;
  }
  return undefined;
}

/** The timeline page: its frame and what it shows (title, steps of the table rows, Watch state, painted canvases). */
async function timelinePage() {
  const frame = await findFrame(() => Boolean(document.querySelector('section[data-chart="gradNormTimeline"]')));
  if (!frame) return undefined;
  const state = await frame.evaluate(() => {
    const painted = Array.from(document.querySelectorAll('section[data-chart] canvas')).map((canvas) => {
      const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      if (data) for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) n++;
      return n;
    });
    const watch = document.querySelector('button[data-focus-key="watch"]');
    return {
      title: (document.querySelector('h1') || {}).textContent || '',
      steps: Array.from(document.querySelectorAll('tr[data-step]')).map((tr) => Number(tr.getAttribute('data-step'))),
      watching: watch ? watch.getAttribute('aria-pressed') === 'true' : undefined,
      painted,
    };
  });
  return { frame, ...state };
}

/** The report page that shows a model whose title contains `text`, once its charts are painted. */
async function reportPageShowing(text) {
  return findFrame((t) => {
    const title = document.querySelector('h1.model-name');
    if (!title || !title.textContent.includes(t) || document.querySelector('.awaiting')) return false;
    const canvases = Array.from(document.querySelectorAll('canvas')).filter((c) => c.width > 0 && c.height > 0);
    return (
      canvases.length > 0 &&
      canvases.some((c) => {
        const data = c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data;
        if (data) for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
        return false;
      })
    );
  }, text);
}

/** The label of the active tab of the editor group that has keyboard focus in a text editor, else null. */
async function focusedTextEditor() {
  return session.page.evaluate(() => {
    const focused = document.activeElement;
    if (!focused || !focused.closest('.monaco-editor')) return null;
    const group = focused.closest('.editor-group-container');
    if (!group || !group.classList.contains('active')) return null;
    const tab = group.querySelector('.tab.active');
    return tab ? tab.getAttribute('aria-label') : null;
  });
}

/** The labels of the workbench's editor tabs. */
async function tabLabels() {
  return session.page
    .locator('.tabs-container .tab')
    .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
}

/** The report the built CLI computes for a model of the workspace (`analyze FILE --json`), cached by name. */
function cliReport(name) {
  if (!session.reports[name]) {
    const r = childProcess.spawnSync(
      process.execPath,
      [path.join(repoRoot, 'dist', 'cli.js'), 'analyze', name, '--json', '--exact'],
      { cwd: session.workspace, encoding: 'utf8', timeout: 120000, maxBuffer: 64 * 1024 * 1024 },
    );
    if (r.status !== 0) throw new Error(`rnn-gradients analyze ${name}: exit ${r.status}: ${r.stderr}`);
    session.reports[name] = JSON.parse(r.stdout);
  }
  return session.reports[name];
}

/** The base-10 logarithm of a figure as the panel writes it ("0.1371", "1.23e-400", "4.2e5"); NaN otherwise. */
function log10Of(text) {
  const m = /^(-?\d+(?:\.\d+)?)(?:e([+-]?\d+))?$/.exec(String(text).trim());
  if (!m) return NaN;
  return Math.log10(Math.abs(Number(m[1]))) + (m[2] ? Number(m[2]) : 0);
}

/** Asserts that a figure the panel shows (4 significant digits) is the value `log10` stands for. */
function assertFigure(text, log10, what) {
  if (log10 === null || log10 === undefined || log10 === -Infinity) {
    assert.strictEqual(String(text).trim(), '0', `${what}: the engine computed 0`);
    return;
  }
  const shown = log10Of(text);
  assert.ok(
    Number.isFinite(shown) && Math.abs(shown - log10) < 1e-3,
    `${what}: the panel shows "${text}", the engine computed 10^${log10} (${10 ** log10})`,
  );
}

/** The editor tab of the report panel of a model ("Gradients: NAME"). */
function reportTab(modelName) {
  return session.page
    .locator(`.tabs-container .tab[aria-label*="Gradients: ${modelName.replace(/\.rnn\.json$/, '')}"]`)
    .first();
}

/** The report page (webview frame) showing a complete report of the model, once it is drawn. */
async function reportFrameOf(modelName, timeoutMs = 90000) {
  const file = modelName;
  return until(
    `the report of ${file} drawn in the panel`,
    () =>
      findFrame((f) => {
        const facts = Array.from(document.querySelectorAll('.facts dd')).map((d) => d.textContent);
        return (
          !document.querySelector('.awaiting') &&
          !document.querySelector('.badge') &&
          facts.some((t) => t && t.endsWith(f)) &&
          document.querySelectorAll('section[data-chart] canvas').length > 0
        );
      }, file),
    timeoutMs,
  );
}

/** The report page of the model once `accept(frame)` (async) holds for it; `description` names the wait. */
async function reportFrameWhen(modelName, description, accept, timeoutMs) {
  return until(
    description,
    async () => {
      const frame = await reportFrameOf(modelName);
      return (await accept(frame)) ? frame : undefined;
    },
    timeoutMs,
  );
}

/** Closes every editor tab whose label contains `part` (middle click, as a person closes a tab). */
async function closeTabs(part) {
  const tabs = session.page.locator(`.tabs-container .tab[aria-label*="${part}"]`);
  for (let i = 0; i < 10 && (await tabs.count()) > 0; i++) {
    await tabs.first().click({ button: 'middle' });
    await harness.sleep(300);
  }
  assert.strictEqual(await tabs.count(), 0, `a tab "${part}" is still open`);
}

/** The extension's status bar item (its text starts with "RNN:" after the icon). */
function regimeItem() {
  return session.page.locator('.statusbar-item').filter({ hasText: /RNN: / }).first();
}

/** The text of the status bar's editor-position item ("Ln 12, Col 5 (14 selected)"). */
async function cursorPosition() {
  return (await session.page.locator('[id="status.editor.selection"]').first().innerText({ timeout: 10000 })).trim();
}

/** The 1-based line and column of the first occurrence of `needle` in a file of the workspace. */
function positionIn(name, needle) {
  const text = fs.readFileSync(path.join(session.workspace, name), 'utf8');
  const at = text.indexOf(needle);
  assert.ok(at >= 0, `${needle} is not in ${name}`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}

/**
 * The progress notification whose text contains `text`, once visible: its toast when the workbench shows one, else its
 * entry in the notification centre, which is opened by its command ("Notifications: Show Notifications", not the
 * bell, whose click toggles) whenever neither is visible (a click elsewhere may have closed the centre, or the toast
 * may have gone into the centre already). Returns its locator.
 */
async function progressNotification(text, timeoutMs = 60000) {
  const page = session.page;
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
  const entry = page.locator('.notifications-center .notification-list-item', { hasText: text }).first();
  return until(
    `the notification "${text}"`,
    async () => {
      if (await toast.isVisible()) return toast;
      if (await entry.isVisible()) return entry;
      if (!(await page.locator('.notifications-center').isVisible()))
        await runCommand('Notifications: Show Notifications');
      return (await entry.isVisible()) ? entry : undefined;
    },
    timeoutMs,
  );
}

/** Closes the notification centre if it is open (its status bar bell toggles it). */
async function closeNotificationCentre() {
  if (await session.page.locator('.notifications-center').isVisible())
    await session.page.locator('[id="status.notifications"]').click({ timeout: 10000 });
}

/** The notification center's entries whose text matches `re` (see notificationTexts). */
async function notificationsMatching(re) {
  return (await notificationTexts()).filter((n) => re.test(n.text));
}

/** Runs a command from the F1 palette by its label and leaves any quick pick it opens to the caller. */
async function startCommand(label) {
  await paletteRow(label);
  await session.page.keyboard.press('Enter');
}

/** Writes the workspace's .vscode/settings.json (undefined: removes it) and waits for the workbench to read it. */
async function workspaceSettings(settings) {
  const dir = path.join(session.workspace, '.vscode');
  const file = path.join(dir, 'settings.json');
  if (settings === undefined) fs.rmSync(file, { force: true });
  else {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
  }
  await harness.sleep(2500);
}

/** The session's workbench from now on: its server, browser, page and folders (see startWorkbench). */
function adoptWorkbench(workbench) {
  session.server = workbench.server;
  session.browser = workbench.browser;
  session.page = workbench.page;
  session.dataDir = workbench.dataDir;
  session.extDir = workbench.extDir;
  session.workspace = workbench.workspace;
  session.reports = {};
}

/** Starts a workbench (startWorkbench's options) as the session's; one that failed half-way is still stopped later. */
async function openSession(options) {
  try {
    adoptWorkbench(await startWorkbench(options));
  } catch (error) {
    if (error.workbench) adoptWorkbench(error.workbench);
    throw error;
  }
}

/**
 * Ends the current workbench and opens a second one (code-server + Chromium) on a fresh copy of the examples plus the
 * long model, with the extension already installed: `env` for code-server and so the extension host, `workspaceTrust`
 * (VS Code's workspace trust on: a folder not trusted yet opens in Restricted Mode), and user and folder settings.
 */
async function restartSession(
  label,
  { env = {}, workspaceTrust = false, userSettings, folderSettings, files = {} } = {},
) {
  await stopSession();
  await openSession({
    dir: path.join(session.tmpDir, label),
    copyFrom: harness.exampleFolder(),
    copies: { [longModelName]: path.join(repoRoot, 'test', 'fixtures', 'workspace', longModelName) },
    files,
    extDir: session.extDir,
    userSettings,
    folderSettings,
    env,
    workspaceTrust,
  });
}

/**
 * What a chart section of the report page shows: its heading, whether its canvas sits inside it and is visible, the
 * canvas pixels painted in a colour other than the page background, and (after "Show as table" is clicked) its table
 * rows as cell texts.
 */
async function chartSection(frame, id) {
  const section = frame.locator(`section[data-chart="${id}"]`);
  await section.scrollIntoViewIfNeeded();
  const drawn = await section.evaluate((root) => {
    const canvas = root.querySelector('.chart-box canvas');
    const heading = root.querySelector('h2, h3');
    const bg = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
    let ink = 0;
    if (canvas && canvas.width > 0 && canvas.height > 0) {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] === 0) continue;
        const d = Math.abs(data[i] - bg[0]) + Math.abs(data[i + 1] - bg[1]) + Math.abs(data[i + 2] - bg[2]);
        if (d > 24) ink++;
      }
    }
    const box = canvas ? canvas.getBoundingClientRect() : { width: 0, height: 0 };
    return {
      heading: heading ? heading.textContent.trim() : '',
      canvasInSection: Boolean(canvas),
      visible: Boolean(canvas) && box.width > 0 && box.height > 0 && canvas.checkVisibility(),
      ink,
    };
  });
  const toggle = section.locator('.section-head button', { hasText: 'Show as table' }).first();
  await toggle.click();
  const table = section.locator('.table-box table');
  await table.waitFor({ state: 'visible', timeout: 10000 });
  const rows = await table
    .locator('tbody tr')
    .evaluateAll((trs) => trs.map((tr) => Array.from(tr.querySelectorAll('td, th')).map((c) => c.textContent.trim())));
  await section.locator('.section-head button', { hasText: 'Show as chart' }).first().click();
  return { ...drawn, rows };
}

describe('RNN Gradients in the workbench (packaged .vsix, code-server + Chromium)', function () {
  this.timeout(120000);

  before(async function () {
    this.timeout(600000);
    session.tmpDir = harness.makeTempDir('e2e');
    const packaged = packageExtension(session.tmpDir);
    session.vsix = packaged.vsix;
    session.packageError = packaged.error;
    const examples = harness.exampleFolder();
    const models = fs
      .readdirSync(examples)
      .filter((f) => f.endsWith('.rnn.json'))
      .sort();
    session.modelName = preferredModels.find((m) => models.includes(m)) || models[0];
    if (!session.modelName) throw new Error(`no *.rnn.json model at the top of ${examples}`);
    // Files some checks open are written before the workbench starts: a file written while it runs may reach the
    // Explorer late (seen right after start-up).
    const responsiveness = fs.readFileSync(
      path.join(repoRoot, 'test', 'fixtures', 'workspace', 'responsiveness-panel.rnn.json'),
      'utf8',
    );
    assert.match(responsiveness, /"length": 800/);
    await openSession({
      dir: session.tmpDir,
      copyFrom: examples,
      copies: {
        [longModelName]: path.join(repoRoot, 'test', 'fixtures', 'workspace', longModelName),
        ...Object.fromEntries(
          ['step_100.rnn.json', 'step_200.rnn.json'].map((n) => [
            `${timelineFolder}/${n}`,
            path.join(timelineSource, n),
          ]),
        ),
      },
      files: {
        [brokenModelName]: '{ "cell": "banana", "weights": { "weight_hh_l0": "not a matrix" } }\n',
        [partialModelName]: `// e2e run ${new Date().toISOString()}\n${responsiveness.replace('"length": 800', '"length": 2400')}`,
        [exactModelName]: exactModelText,
      },
      vsix: session.vsix,
    });
  });

  afterEach(async function () {
    if (this.currentTest && this.currentTest.state === 'failed') {
      const file = await screenshot(`e2e-failed-${this.currentTest.title.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`);
      if (file) console.log(`    screenshot: ${path.relative(repoRoot, file)}`);
    }
  });

  after(async function () {
    this.timeout(60000);
    const failed = this.test && this.test.parent && this.test.parent.tests.some((t) => t.state === 'failed');
    if (failed && session.server) harness.printLogTails(session.server, session.dataDir);
    await stopSession();
    if (!failed && session.tmpDir) fs.rmSync(session.tmpDir, { recursive: true, force: true });
  });

  it('packages the extension into a .vsix and installs it into code-server', function () {
    assert.strictEqual(session.packageError, '', session.packageError);
    assert.ok(fs.existsSync(session.vsix) && fs.statSync(session.vsix).size > 0, `no .vsix at ${session.vsix}`);
    const installed = fs.readdirSync(session.extDir).filter((d) => d.toLowerCase().startsWith(`${extensionId}-`));
    assert.strictEqual(
      installed.length,
      1,
      `expected ${extensionId} in ${session.extDir}, found: ${fs.readdirSync(session.extDir).join(', ')}`,
    );
  });

  it('opens a model from the Explorer', async function () {
    await openFromExplorer(session.modelName);
    const firstLine = fs
      .readFileSync(path.join(session.workspace, session.modelName), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l.length > 0)
      .slice(0, 40);
    const normalize = (t) => t.replace(/[\s\u00a0]+/g, ' ');
    const editorText = async () =>
      normalize(
        await session.page.locator('.editor-instance .monaco-editor .view-lines').first().innerText({ timeout: 30000 }),
      );
    const deadline = Date.now() + 20000;
    let text = await editorText();
    while (!text.includes(normalize(firstLine)) && Date.now() < deadline) {
      await harness.sleep(500);
      text = await editorText();
    }
    assert.ok(
      text.includes(normalize(firstLine)),
      `the editor does not show ${session.modelName} (expected "${firstLine}", saw "${text.slice(0, 120)}")`,
    );
  });

  it('opens the Problems panel with Ctrl+Shift+M and lists the broken model', async function () {
    const page = session.page;
    await openFromExplorer(brokenModelName);
    await page.locator('.editor-instance .monaco-editor').first().click();
    await page.keyboard.press('Control+Shift+M');
    await page.locator('.markers-panel').first().waitFor({ state: 'visible', timeout: 30000 });
    // Problem rows sit one level below their file's row; only those whose source is this extension's
    // count (the built-in JSON server may report problems of its own, e.g. about the schema).
    const problemRows = page.locator('.markers-panel .monaco-list-row[aria-level="2"]');
    const readRows = () =>
      problemRows.evaluateAll((els) =>
        els.map((e) => ({
          message: (e.querySelector('.marker-message') || e).textContent.replace(/\s+/g, ' ').trim(),
          source: ((e.querySelector('.marker-source') || {}).textContent || '').trim(),
        })),
      );
    const deadline = Date.now() + 60000;
    let rows = [];
    while (Date.now() < deadline) {
      rows = await readRows();
      if (rows.some((r) => r.source === 'rnn-gradients')) break;
      await harness.sleep(500);
    }
    const fileRows = await page.locator('.markers-panel .monaco-list-row[aria-level="1"]').allInnerTexts();
    console.log(`    Problems files: ${fileRows.map((t) => t.replace(/\s+/g, ' ').trim()).join(' | ') || '(none)'}`);
    console.log(
      `    Problems rows: ${rows.map((r) => `[${r.source}] ${r.message.slice(0, 100)}`).join(' | ') || '(none)'}`,
    );
    assert.ok(
      fileRows.some((t) => t.includes(brokenModelName)),
      `no Problems entry for ${brokenModelName}`,
    );
    assert.ok(
      rows.some((r) => r.source === 'rnn-gradients'),
      'no problem from source rnn-gradients in the Problems panel',
    );
    // The status bar item of the broken model (its editor is active) says so.
    const status = await until(
      'the status bar saying "wrong input"',
      async () => {
        const t = (await regimeItem().innerText()).trim();
        return /RNN: wrong input/.test(t) ? t : undefined;
      },
      30000,
    );
    console.log(`    status bar: ${status}`);
  });

  it('the CodeLens "Analyze RNN gradients" above the model (clicked) opens the report panel with its report', async function () {
    const page = session.page;
    await openFromExplorer(session.modelName);
    const lens = page.locator('.editor-instance .codelens-decoration a', { hasText: 'Analyze RNN gradients' }).first();
    await lens.waitFor({ state: 'visible', timeout: 60000 });
    await lens.click();
    await reportTab(session.modelName).waitFor({ state: 'visible', timeout: 60000 });
    const frame = await reportFrameOf(session.modelName);
    const report = cliReport(session.modelName);
    const title = await frame.locator('h1.model-name').innerText();
    assert.ok(title.trim().length > 0, 'the report has no title');
    const facts = await frame.locator('.facts dd').allInnerTexts();
    assert.ok(
      facts.some((t) => t.trim() === String(report.model.hidden_size)),
      `the header does not show hidden size ${report.model.hidden_size}: ${facts.join(' | ')}`,
    );
  });

  it('runs "Analyze RNN gradients" from the F1 command palette', async function () {
    const page = session.page;
    await openFromExplorer(session.modelName);
    await page.locator('.editor-instance .monaco-editor').first().click();
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30000 });
    await page.keyboard.type('Analyze RNN gradients');
    const entry = page.locator('.quick-input-list .monaco-list-row[aria-label*="Analyze RNN gradients"]').first();
    await entry.waitFor({ state: 'visible', timeout: 30000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 30000 });
    const activated = (line) => line.includes('_doActivateExtension rnn-gradients.rnn-gradients');
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline && !extensionHostLog().some(activated)) await harness.sleep(500);
    await harness.sleep(2000);
    const notifications = await notificationTexts();
    console.log(
      `    notifications: ${notifications.map((n) => `${n.error ? '[error] ' : ''}${n.text.slice(0, 120)}`).join(' | ') || '(none)'}`,
    );
    await screenshot('e2e-after-analyze');
    const activation = extensionHostLog().filter(activated);
    console.log(
      `    activation: ${activation.map((l) => l.replace(/^.*activationEvent: /, '')).join('; ') || '(none)'}`,
    );
    assert.ok(activation.length > 0, 'the extension host never activated rnn-gradients.rnn-gradients');
    const errors = notifications
      .filter((n) => n.error || /command .* not found|failed/i.test(n.text))
      .map((n) => n.text);
    assert.deepStrictEqual(errors, [], 'running the command showed an error');
  });

  it('draws each chart in its own section: painted canvas, and its table holds the engine’s numbers', async function () {
    this.timeout(180000);
    const frame = await reportFrameOf(session.modelName);
    const report = cliReport(session.modelName);
    const layers = report.layers;
    const lagRows = layers.flatMap((l) => l.lags.map((e) => ({ l, e })));
    const gateNames = Object.keys(layers[0].gates || {});
    const expected = {
      lags: {
        heading: /lag/i,
        rows: (rows) => {
          assert.strictEqual(rows.length, lagRows.length, 'one row per layer and lag');
          rows.forEach((r, i) => {
            const { e } = lagRows[i];
            assert.strictEqual(Number(r[1]), e.lag, `row ${i}: lag`);
            assert.strictEqual(Number(r[2]), e.count, `row ${i}: pairs`);
            assertFigure(r[3], e.log10_mean, `lag ${e.lag} mean`);
            assertFigure(r[4], e.log10_min, `lag ${e.lag} min`);
            assertFigure(r[5], e.log10_max, `lag ${e.lag} max`);
          });
        },
      },
      contributions: {
        heading: /contribution/i,
        rows: (rows) => {
          assert.strictEqual(rows.length, lagRows.length, 'one row per layer and lag');
          rows.forEach((r, i) => {
            const { e } = lagRows[i];
            const log10 =
              e.log10_contribution_mean !== undefined ? e.log10_contribution_mean : Math.log10(e.contribution_mean);
            assertFigure(r[2], log10, `lag ${e.lag} contribution`);
          });
        },
      },
      clipping: {
        heading: /clipping/i,
        rows: (rows) => {
          assert.strictEqual(rows.length, report.clipping.batch_norms.length, 'one row per batch');
          rows.forEach((r, i) => assertFigure(r[1], Math.log10(report.clipping.batch_norms[i]), `batch ${i + 1} norm`));
        },
      },
      pascanu: {
        heading: /Pascanu/,
        rows: (rows) => {
          assert.strictEqual(rows.length, layers.length, 'one row per layer');
          rows.forEach((r, i) => assertFigure(r[1], Math.log10(layers[i].sigma_max), `layer ${i} σ_max`));
        },
      },
      gates: {
        heading: /gates/i,
        rows: (rows) => {
          for (const g of gateNames) {
            const row = rows.find((r) => r[1] === g);
            assert.ok(row, `no row of gate ${g}: ${JSON.stringify(rows)}`);
            assertFigure(row[2], Math.log10(Math.abs(layers[0].gates[g].mean)), `${g} gate mean`);
          }
        },
      },
      gateGrads: {
        heading: /per gate/i,
        rows: (rows) => {
          assert.strictEqual(rows.length, gateNames.length * layers.length, 'one row per layer and gate');
          for (const g of gateNames) {
            const row = rows.find((r) => r[1] === g);
            assertFigure(row[2], Math.log10(layers[0].gates[g].weight_hh_grad_norm), `${g} ‖∂W_hh‖`);
            assertFigure(row[3], Math.log10(layers[0].gates[g].weight_ih_grad_norm), `${g} ‖∂W_ih‖`);
          }
        },
      },
    };
    if (gateNames.length === 0) {
      delete expected.gates;
      delete expected.gateGrads;
    }
    const sections = await frame
      .locator('section[data-chart]')
      .evaluateAll((els) => els.filter((e) => !e.closest('details')).map((e) => e.getAttribute('data-chart')));
    for (const id of Object.keys(expected))
      assert.ok(sections.includes(id), `no section "${id}" in the panel (sections: ${sections.join(', ')})`);
    const seen = [];
    for (const [id, want] of Object.entries(expected)) {
      const shown = await chartSection(frame, id);
      seen.push(`${id}: "${shown.heading}" ${shown.ink} px, ${shown.rows.length} rows`);
      assert.match(shown.heading, want.heading, `section ${id}: heading`);
      assert.ok(shown.canvasInSection && shown.visible, `section ${id}: no visible canvas of its own`);
      assert.ok(shown.ink > 500, `section ${id}: its canvas has ${shown.ink} painted pixels`);
      want.rows(shown.rows);
    }
    console.log(`    sections: ${seen.join('; ')}`);
    await screenshot('e2e-report-panel');
  });

  it('the heatmap (its section opened with a click) is computed and drawn, its readout in the report’s range', async function () {
    const frame = await reportFrameOf(session.modelName);
    await frame.locator('details.heatmap > summary').click();
    const section = frame.locator('details.heatmap section[data-chart="heatmap"]');
    const ink = await until(
      'the heatmap drawn',
      async () => {
        const n = await section.evaluate((root) => {
          const canvas = root.querySelector('.chart-box canvas');
          if (!canvas || !canvas.checkVisibility() || canvas.width === 0) return 0;
          const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
          const colours = new Set();
          for (let i = 0; i < data.length; i += 4)
            if (data[i + 3] > 0) colours.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
          return colours.size;
        });
        return n > 20 ? n : undefined;
      },
      90000,
    );
    // The colour bar's tick labels: powers of ten along a log scale.
    const legend = await section.locator('.colour-ticks .legend-tick').allInnerTexts();
    console.log(`    heatmap: ${ink} colours; colour bar ticks ${legend.join(' … ')}`);
    assert.ok(legend.length >= 2 && legend.every((t) => t.trim().length > 0), `colour bar ticks: ${legend}`);
    await screenshot('e2e-heatmap');
  });

  it('the Output channel "RNN Gradients" shows the analyses’ log', async function () {
    const page = session.page;
    await startCommand('Output: Show Output Channels...');
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'RNN Gradients' }).first();
    await row.waitFor({ state: 'visible', timeout: 30000 });
    await row.click();
    const base = session.modelName;
    const text = await until(
      'the log line of the analysis in the Output view',
      async () => {
        const t = (
          await page.locator('.panel .output-view .view-lines, .panel .monaco-editor .view-lines').first().innerText()
        ).replace(/[\s\u00a0]+/g, ' ');
        return t.includes(`${base}: analyzed in`) ? t : undefined;
      },
      30000,
    );
    const report = cliReport(session.modelName);
    assert.match(text, new RegExp(`hidden size ${report.model.hidden_size}`), `log: ${text.slice(0, 400)}`);
  });

  it('clicking the status bar item opens the report panel of the active model file', async function () {
    await runCommand('View: Close All Editor Groups');
    await openFromExplorer(actionModelName);
    const item = regimeItem();
    await until('the status bar regime of the model', async () => /RNN: exploding/.test(await item.innerText()), 60000);
    await item.click();
    await reportTab(actionModelName).waitFor({ state: 'visible', timeout: 60000 });
    await reportFrameOf(actionModelName);
  });

  it('a finding clicked in the panel (Jump) selects its key in the model file', async function () {
    const frame = await reportFrameOf(actionModelName);
    const finding = frame.locator('.finding-list button.finding', { hasText: 'exploding-gradients' }).first();
    await finding.click();
    const key = positionIn(actionModelName, '"weight_hh_l0"');
    // The key "weight_hh_l0" (14 characters with its quotes) is selected.
    const where = await until(
      'the key "weight_hh_l0" selected',
      async () => {
        const text = await cursorPosition();
        const m = /Ln (\d+), Col (\d+)/.exec(text);
        return m && Number(m[1]) === key.line && text.includes('(14 selected)') ? text : undefined;
      },
      30000,
    ).catch(async (e) => {
      throw new Error(`${e.message}; status bar: ${await cursorPosition()}; the key is at ${key.line}:${key.column}`);
    });
    console.log(`    cursor after Jump: ${where} (key at line ${key.line}, column ${key.column})`);
  });

  it('Apply (clicked in the panel) writes the suggested clip_norm it states into the model file', async function () {
    const page = session.page;
    const frame = await reportFrameOf(actionModelName);
    const original = fs.readFileSync(path.join(session.workspace, actionModelName), 'utf8');
    const apply = frame.locator('button[data-focus-key="apply-clip_norm"]').first();
    const label = await apply.innerText();
    const stated = /clip_norm to ([\d.]+(?:e[+-]?\d+)?)/.exec(label);
    assert.ok(stated, `the button does not say the value it sets: "${label}"`);
    const report = cliReport(actionModelName);
    const suggested = report.clipping.recommended.clip_norm;
    assert.ok(
      Math.abs(Number(stated[1]) - suggested) / suggested < 5e-3,
      `the button sets ${stated[1]}, the engine recommends ${suggested}`,
    );
    await apply.click();
    // The edit is in the editor: save it (Ctrl+S in the model's editor) and read the file.
    // Under load the first click on the tab may not move the focus into its editor: click it again until it does.
    const modelTab = page
      .locator('.editor-group-container')
      .first()
      .locator(`.tab[aria-label*="${actionModelName}"]`)
      .first();
    await until(
      'the model editor focused',
      async () => {
        if (((await focusedTextEditor()) || '').includes(actionModelName)) return true;
        await modelTab.click();
        return false;
      },
      30000,
    );
    await page.keyboard.press('Control+S');
    const saved = await until(
      'the file written with the new clip_norm',
      async () => {
        const t = fs.readFileSync(path.join(session.workspace, actionModelName), 'utf8');
        return t !== original ? t : undefined;
      },
      30000,
    );
    assert.match(
      saved,
      new RegExp(`"clip_norm":\\s*${stated[1].replace('.', '\\.')}\\b`),
      'clip_norm not set as stated',
    );
    const changed = saved.split('\n').filter((l, i) => l !== original.split('\n')[i]);
    assert.strictEqual(changed.length, 1, `more than the clip_norm line changed: ${changed.join(' | ')}`);
    // Back to the original text through the editor, as a person would: Undo, then save. (Writing the file from
    // outside right after the save once left the editor dirty, and the next "Close All Editor Groups" then stopped at
    // a modal "Do you want to save the changes", failing every later check.)
    const dirty = async () => /\bdirty\b/.test((await modelTab.getAttribute('class')) || '');
    await until('the model tab saved', async () => !(await dirty()), 30000);
    await until(
      'the model editor focused',
      async () => {
        if (((await focusedTextEditor()) || '').includes(actionModelName)) return true;
        await modelTab.click();
        return false;
      },
      30000,
    );
    const onDisk = () => fs.readFileSync(path.join(session.workspace, actionModelName), 'utf8');
    await page.keyboard.press('Control+Z');
    // Undone: the editor is dirty until saved (one run found the file and the editor already back to the original).
    await until('the Apply edit undone', async () => (await dirty()) || onDisk() === original, 15000);
    if (await dirty()) await page.keyboard.press('Control+S');
    await until('the file back to its original text', async () => onDisk() === original, 30000);
    await until('the model tab saved', async () => !(await dirty()), 30000);
  });

  it('Export (clicked in the panel, the save dialog answered) writes the report as JSON', async function () {
    const page = session.page;
    const frame = await reportFrameOf(actionModelName);
    const target = path.join(session.workspace, 'exported-report.json');
    await frame.locator('button[data-focus-key="json"]').first().click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 30000 });
    // The dialog fills in its default path (the model's folder and a suggested name) first; then ours replaces it.
    await until('the save dialog’s default path', async () => /\.json$/.test(await input.inputValue()), 15000);
    await input.fill(target);
    await until('the path typed', async () => (await input.inputValue()) === target, 10000);
    await page.keyboard.press('Enter');
    const written = await until(
      'the exported file',
      async () => (fs.existsSync(target) && fs.statSync(target).size > 0 ? fs.readFileSync(target, 'utf8') : undefined),
      30000,
    );
    const exported = JSON.parse(written);
    const report = cliReport(actionModelName);
    assert.strictEqual(exported.model.hidden_size, report.model.hidden_size);
    assert.strictEqual(exported.layers[0].regime, report.layers[0].regime);
    assert.ok(Math.abs(exported.grad_norm - report.grad_norm) <= 1e-9 * report.grad_norm, 'grad_norm');
    const lag = report.layers[0].lags[5];
    assert.ok(Math.abs(exported.layers[0].lags[5].log10_mean - lag.log10_mean) < 1e-9, 'lag 5 log10_mean');
  });

  it('the editor title button, the editor context menu and the Explorer context menu each run the analysis', async function () {
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    await openFromExplorer(actionModelName);
    // Editor title bar.
    const titleButton = page.locator('.editor-actions .action-label[aria-label*="Analyze RNN gradients"]').first();
    await titleButton.waitFor({ state: 'visible', timeout: 30000 });
    await titleButton.click();
    await reportTab(actionModelName).waitFor({ state: 'visible', timeout: 60000 });
    await closeTabs('Gradients: ');
    // Editor context menu.
    await page
      .locator('.editor-group-container')
      .first()
      .locator(`.tab[aria-label*="${actionModelName}"]`)
      .first()
      .click();
    // The model's tab focuses its editor; Shift+F10 opens the editor's context menu there.
    await until(
      'the model editor focused',
      async () => ((await focusedTextEditor()) || '').includes(actionModelName),
      15000,
    );
    await page.keyboard.press('Shift+F10');

    const editorItem = page.getByRole('menuitem', { name: /Analyze RNN gradients/ }).first();
    await editorItem.waitFor({ state: 'visible', timeout: 30000 });
    await clickMenuItem(editorItem);
    await reportTab(actionModelName).waitFor({ state: 'visible', timeout: 60000 });
    await closeTabs('Gradients: ');
    // Explorer context menu of the model file.
    const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${actionModelName}"]`).first();
    await row.click({ button: 'right' });
    const explorerItem = page.getByRole('menuitem', { name: /Analyze RNN gradients/ }).first();
    await explorerItem.waitFor({ state: 'visible', timeout: 30000 });
    await clickMenuItem(explorerItem);
    await reportTab(actionModelName).waitFor({ state: 'visible', timeout: 60000 });
    await reportFrameOf(actionModelName);
  });

  it('with no model file active, the command asks which one (quick pick answered) and opens its report', async function () {
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    await startCommand('Analyze RNN gradients');
    const pick = page.locator('.quick-input-widget');
    await pick.waitFor({ state: 'visible', timeout: 30000 });
    await until(
      'the quick pick listing model files',
      async () => (await page.locator('.quick-input-list .monaco-list-row').count()) > 1,
      30000,
    );
    const listed = await page.locator('.quick-input-list .monaco-list-row .label-name').allInnerTexts();
    assert.ok(
      listed.some((t) => t.includes(session.modelName)),
      `the pick lists ${listed.join(', ')}`,
    );
    await page.keyboard.type(actionModelName);
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: actionModelName })
      .first()
      .waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await reportTab(actionModelName).waitFor({ state: 'visible', timeout: 60000 });
    await reportFrameOf(actionModelName);
  });

  it('the status bar goes straight from one verdict to the next when switching files, and a new model shows "analyzing", never "not analyzed"', async function () {
    this.timeout(240000);
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    // Two analyzed model files, each in its own tab (a double click keeps the tab: no preview).
    const verdictOf = async () => {
      const t = (await regimeItem().innerText({ timeout: 5000 })).trim();
      return /RNN: /.test(t) && !/analyz/.test(t) ? t : undefined;
    };
    // healthy-lstm is stable, exploding-tanh exploding: two different verdicts.
    const files = [session.modelName, actionModelName];
    const verdicts = {};
    for (const [name, regime] of [
      [files[0], /stable/],
      [files[1], /exploding/],
    ]) {
      const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${name}"]`).first();
      await row.dblclick();
      await page.locator(`.tabs-container .tab[aria-label*="${name}"]`).first().waitFor({ state: 'visible' });
      verdicts[name] = await until(
        `the verdict of ${name} in the status bar`,
        async () => {
          const v = await verdictOf();
          return v && regime.test(v) ? v : undefined;
        },
        90000,
      );
    }
    // A model no earlier test opened: its analysis on open has not started when its editor becomes active.
    const fresh = 'status-bar-fresh.rnn.json';
    fs.copyFileSync(path.join(session.workspace, 'vanishing-sigmoid.rnn.json'), path.join(session.workspace, fresh));
    // Every state of the item from now on, recorded in the page ('' while it is not shown).
    await page.evaluate(() => {
      const read = () => {
        const item = Array.from(document.querySelectorAll('.part.statusbar .statusbar-item')).find((e) =>
          /RNN: /.test(e.textContent || ''),
        );
        return item && item.checkVisibility() ? (item.textContent || '').replace(/\s+/g, ' ').trim() : '';
      };
      const states = [read()];
      const observer = new MutationObserver(() => {
        const now = read();
        if (states[states.length - 1] !== now) states.push(now);
      });
      observer.observe(document.querySelector('.part.statusbar'), {
        childList: true,
        subtree: true,
        characterData: true,
        attributes: true,
      });
      window.__rnnStatusStates = states;
      window.__rnnStatusObserver = observer;
    });
    for (let round = 0; round < 3; round++) {
      for (const name of [files[0], files[1]]) {
        await page.locator(`.tabs-container .tab[aria-label*="${name}"]`).first().click();
        await until(
          `the verdict of ${name} after switching to it`,
          async () => (await verdictOf()) === verdicts[name],
          30000,
        );
      }
    }
    await openFromExplorer(fresh);
    // Its own verdict (a copy of vanishing-sigmoid): right after the open the item may still show the previous tab's.
    const freshVerdict = await until(
      `the verdict of ${fresh}`,
      async () => {
        const v = await verdictOf();
        return v && /vanishing/.test(v) ? v : undefined;
      },
      90000,
    );
    const states = await page.evaluate(() => {
      window.__rnnStatusObserver.disconnect();
      return window.__rnnStatusStates;
    });
    console.log(`    status bar states: ${states.map((s) => JSON.stringify(s)).join(' → ')}`);
    assert.ok(!states.some((s) => /not analyzed/.test(s)), 'the status bar said "not analyzed" on the way');
    assert.ok(!states.includes(''), 'the status bar item disappeared on the way');
    assert.ok(
      states.some((s) => /analyzing/.test(s)),
      `the new model showed no "analyzing" before its verdict (${freshVerdict})`,
    );
    await runCommand('View: Close All Editor Groups');
  });

  it('a long analysis shows its progress notification after the 0.5 s delay, then the time left, and its Cancel button (clicked) stops it', async function () {
    this.timeout(240000);
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    // A run that is answered at once (the unchanged model analyzed again) shows no notification.
    await openFromExplorer(actionModelName);
    await runCommand('Analyze RNN gradients');
    await harness.sleep(1500);
    assert.deepStrictEqual(
      await notificationsMatching(/Analyzing exploding-tanh/),
      [],
      'a quick run showed a notification',
    );
    await runCommand('View: Close All Editor Groups');
    await openFromExplorer(longModelName);
    // Headless Chromium shows no toasts: the notification center (opened from its bell before the run) lists the
    // notification as it comes. The run starts from the editor title button, a click that leaves the center open.
    const bell = page.locator('[id="status.notifications"]');
    const center = page.locator('.notifications-center');
    if (!(await center.isVisible())) await bell.click();
    await center.waitFor({ state: 'visible', timeout: 10000 });
    const entry = center.locator('.notification-list-item', { hasText: `Analyzing ${longModelName}` }).first();
    const started = Date.now();
    await page.locator('.editor-actions .action-label[aria-label*="Analyze RNN gradients"]').first().click();
    let shownAfter;
    try {
      await entry.waitFor({ state: 'visible', timeout: 30000 });
      shownAfter = Date.now() - started;
    } catch {
      // The click closed the center: open it again (the time is then only an upper bound).
      if (!(await center.isVisible())) await bell.click();
      await entry.waitFor({ state: 'visible', timeout: 30000 });
    }
    console.log(`    progress notification shown ${shownAfter ?? '(not timed)'} ms after the click`);
    if (shownAfter !== undefined)
      assert.ok(shownAfter >= 500, `the notification came ${shownAfter} ms after the click, before the 0.5 s delay`);
    const item = regimeItem();
    assert.match(await item.innerText(), /analyzing/, 'the status bar does not say the analysis runs');
    // Once the run has gone 3 s, the notification gives its phase, percent done and the estimated time left.
    const eta = /\((\d+)%\) · about \d+ (s|min) left/;
    await until('the notification giving the time left', async () => eta.test(await entry.innerText()), 30000);
    console.log(`    the notification says: ${(await entry.innerText()).replace(/\s+/g, ' ')}`);
    await entry.hover();
    await entry.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
    const clicked = Date.now();
    await entry.waitFor({ state: 'hidden', timeout: 30000 });
    // The run stopped: the status bar item stops spinning and says the file has no analysis.
    await until('the status bar no longer analyzing', async () => /not analyzed/.test(await item.innerText()), 15000);
    console.log(`    stopped ${Date.now() - clicked} ms after Cancel: ${(await item.innerText()).trim()}`);
    if (await center.isVisible()) await bell.click();
    await runCommand('View: Close All Editor Groups');
  });

  it('Cancel (clicked in the progress notification) while the panel shows a partial report: the last complete report again, "cancelled" with Re-run, and Re-run (clicked) brings a report', async function () {
    this.timeout(300000);
    await runCommand('View: Close All Editor Groups');
    // Written into the workspace before the workbench started (see partialModelName): the Explorer lists it, and no
    // setting is changed (nothing waits on the workbench reading a settings file).
    const name = partialModelName;
    try {
      await openFromExplorer(name);
      await runCommand('Analyze RNN gradients');
      await reportTab(name).waitFor({ state: 'visible', timeout: 60000 });
      const frame = await reportFrameOf(name, 120000);
      const complete = await frame.locator('.facts').first().innerText();
      const exact = frame.locator('button[data-focus-key="compute-exact"]');
      await exact.waitFor({ state: 'visible', timeout: 30000 });
      await exact.click();
      const partial = await until(
        'the partial report in the panel',
        () =>
          findFrame(() => {
            const badge = document.querySelector('.badge');
            return Boolean(
              badge &&
              /partial/i.test(badge.textContent || '') &&
              badge.checkVisibility({ visibilityProperty: true }) &&
              document.querySelector('h1.model-name'),
            );
          }),
        120000,
      );
      console.log(`    partial: ${(await partial.locator('.badge').first().innerText()).replace(/\s+/g, ' ')}`);
      const notification = await progressNotification(`Analyzing ${name}`);
      await notification.hover();
      await notification.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
      const stopped = await until(
        'the panel saying the analysis was cancelled',
        () =>
          findFrame(() => {
            const visible = (e) => e.checkVisibility({ visibilityProperty: true });
            const rerun = document.querySelector('button[data-focus-key="rerun"]');
            return (
              /cancelled/i.test(document.body.innerText) &&
              rerun &&
              visible(rerun) &&
              !Array.from(document.querySelectorAll('.badge')).some(visible)
            );
          }),
        60000,
      );
      const said = (await stopped.locator('body').innerText()).replace(/\s+/g, ' ');
      console.log(`    after Cancel the panel says: ${said.slice(0, 160)}`);
      assert.doesNotMatch(said, /analysis running/, 'the panel still says the analysis runs');
      assert.match(said, /Showing the last complete report/, 'the panel does not show the last complete report');
      // The last complete report is the one shown again: its facts (analysis time included) and its sampled note.
      assert.strictEqual(
        await stopped.locator('.facts').first().innerText(),
        complete,
        'another report than the last one',
      );
      await stopped.locator('button[data-focus-key="compute-exact"]').waitFor({ state: 'visible', timeout: 10000 });
      await closeNotificationCentre();
      await stopped.locator('button[data-focus-key="rerun"]').click();
      const again = await until(
        'a report in the panel after Re-run, without the cancelled line',
        () =>
          findFrame(() => {
            const rerun = document.querySelector('button[data-focus-key="rerun"]');
            return (
              !/cancelled/i.test(document.body.innerText) &&
              !(rerun && rerun.checkVisibility({ visibilityProperty: true })) &&
              !document.querySelector('.awaiting') &&
              document.querySelector('h1.model-name') &&
              document.querySelectorAll('section[data-chart] canvas').length > 0
            );
          }),
        120000,
      );
      assert.ok(await again.locator('.facts dd', { hasText: name }).count(), 'the report is of another file');
    } finally {
      await closeNotificationCentre();
      await runCommand('View: Close All Editor Groups');
    }
  });

  it('a lag table sampled under a tiny rnnGradients.lagBudgetSeconds: "estimated" in the status bar, "±" in the panel’s lag table; "Compute the exact lag table" (clicked) gives the exact table and the status bar drops "estimated"', async function () {
    this.timeout(300000);
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    const name = exactModelName;
    const lagRows = async (frame) => {
      const section = frame.locator('section[data-chart="lags"]');
      await section.scrollIntoViewIfNeeded();
      await section.locator('.section-head button', { hasText: 'Show as table' }).first().click();
      const tableBox = section.locator('.table-box table');
      await tableBox.waitFor({ state: 'visible', timeout: 10000 });
      const read = await tableBox.evaluate((t) => ({
        headers: Array.from(t.querySelectorAll('thead th')).map((c) => c.textContent.trim()),
        rows: Array.from(t.querySelectorAll('tbody tr')).map((tr) =>
          Array.from(tr.querySelectorAll('td')).map((c) => c.textContent.trim()),
        ),
      }));
      await section.locator('.section-head button', { hasText: 'Show as chart' }).first().click();
      return read;
    };
    const statusText = async () => (await regimeItem().innerText()).replace(/\s+/g, ' ').trim();
    try {
      await workspaceSettings({ 'rnnGradients.lagBudgetSeconds': 0.001 });
      await openFromExplorer(name);
      // Waits for the setting to be in force (the file's analysis after it, on open or on the settings change).
      const estimated = await until(
        '"estimated" in the status bar',
        async () => {
          const t = await statusText();
          return /RNN: .*estimated/.test(t) && !/analyzing/.test(t) ? t : undefined;
        },
        90000,
      );
      console.log(`    status bar, sampled: ${estimated}`);
      await runCommand('Analyze RNN gradients');
      await reportTab(name).waitFor({ state: 'visible', timeout: 60000 });
      const frame = await reportFrameWhen(
        name,
        'the sampled report in the panel',
        (f) => f.locator('button[data-focus-key="compute-exact"]').isVisible(),
        90000,
      );
      const sampled = await lagRows(frame);
      console.log(`    sampled table: ${sampled.headers.join(' | ')}; lag 10: ${sampled.rows[10].join(' | ')}`);
      assert.ok(
        sampled.rows.some((r) => /^± \d/.test(r[6] || '')),
        `no "±" interval in the sampled lag table: ${JSON.stringify(sampled.rows.slice(0, 3))}`,
      );
      // Its min and max are those of the sample (a sampled entry has none of the whole table; they read "0" before).
      for (const r of sampled.rows.filter((row) => /^± /.test(row[6] || ''))) {
        const [min, max] = [log10Of(r[4]), log10Of(r[5])];
        assert.ok(Number.isFinite(min) && min <= max, `lag ${r[1]}: sample min ${r[4]}, max ${r[5]}`);
      }
      await frame.locator('button[data-focus-key="compute-exact"]').click();
      const exactFrame = await reportFrameWhen(
        name,
        'the exact report in the panel',
        async (f) => !(await f.locator('.sampled-note').isVisible()),
        180000,
      );
      const exact = await lagRows(exactFrame);
      assert.ok(
        !exact.headers.some((h) => /interval/.test(h)) && !exact.rows.some((r) => r.some((c) => c.includes('±'))),
        `the exact lag table still shows intervals: ${exact.headers.join(' | ')}`,
      );
      // Every (t, ℓ) pair of the 2 sequences of 300 steps: lag ℓ has 2·(300 − ℓ) of them.
      assert.strictEqual(Number(exact.rows[0][2]), 600, 'lag 0 pairs');
      assert.strictEqual(Number(exact.rows[10][2]), 2 * 290, 'lag 10 pairs');
      // The status bar shows the model file's state with its editor active: back to the model's tab.
      await page.locator('.editor-group-container').first().locator(`.tab[aria-label*="${name}"]`).first().click();
      const plain = await until(
        'the status bar without "estimated"',
        async () => {
          const t = await statusText();
          return /RNN: /.test(t) && !/estimated|analyzing/.test(t) ? t : undefined;
        },
        60000,
      );
      console.log(`    status bar, exact: ${plain}`);
    } finally {
      await workspaceSettings(undefined);
      await runCommand('View: Close All Editor Groups');
    }
  });

  it('a model file reading a PyTorch checkpoint: the panel’s header names its weights file and module, as the report says', async function () {
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    const name = 'tagger.rnn.json';
    // Opened from the command's quick pick (no model file active), as its folder is collapsed in the Explorer.
    await startCommand('Analyze RNN gradients');
    await until(
      'the quick pick listing model files',
      async () => (await page.locator('.quick-input-list .monaco-list-row').count()) > 1,
      30000,
    );
    await page.keyboard.type(name);
    await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await reportTab(name).waitFor({ state: 'visible', timeout: 60000 });
    const frame = await reportFrameOf(name);
    const report = cliReport(`checkpoint/${name}`);
    const source = report.model.source;
    assert.ok(
      source && source.format === 'pytorch' && source.module,
      `the CLI report has no module: ${JSON.stringify(source)}`,
    );
    const facts = await frame
      .locator('.facts > div')
      .evaluateAll((divs) => divs.map((d) => [d.querySelector('dt').textContent, d.querySelector('dd').textContent]));
    const weights = facts.find(([k]) => k === 'weights');
    console.log(`    header: ${facts.map(([k, v]) => `${k} ${v}`).join(' | ')}`);
    assert.ok(weights, `the header has no weights line: ${JSON.stringify(facts)}`);
    assert.strictEqual(weights[1], `weights from ${source.path}, module ${source.module}`);
    await runCommand('View: Close All Editor Groups');
  });

  it('rnnGradients.timeoutSeconds, lowered while a long analysis runs, stops it with one message naming the setting', async function () {
    this.timeout(240000);
    // A long model no earlier test analyzed (no result to reuse). Its analysis on open starts under the default limit
    // (120 s), then the workspace lowers the limit to 2 s and the command runs: the running analysis must not go on
    // under the old limit (it did when the workspace settings were read after the analysis on open had started, as
    // happens on a loaded machine: one CI run waited 90 s for the message while the run finished in 18 s), and the
    // user is told once.
    const name = 'long-run-timeout.rnn.json';
    const text = fs.readFileSync(path.join(session.workspace, longModelName), 'utf8').replace('"seed": 3', '"seed": 4');
    fs.writeFileSync(path.join(session.workspace, name), text);
    try {
      await openFromExplorer(name);
      await until(
        'the status bar analyzing the long model',
        async () => /analyzing/.test(await regimeItem().innerText()),
        30000,
      );
      await workspaceSettings({ 'rnnGradients.timeoutSeconds': 2 });
      await runCommand('Analyze RNN gradients');
      const found = await until(
        'the timeout message',
        async () => {
          const n = await notificationsMatching(/timed out/);
          return n.length ? n : undefined;
        },
        90000,
      );
      await until(
        'the status bar no longer analyzing',
        async () => !/analyzing/.test(await regimeItem().innerText()),
        30000,
      );
      await harness.sleep(3000);
      const all = await notificationsMatching(/timed out/);
      console.log(`    timeout: ${all.map((n) => n.text).join(' | ')}`);
      assert.strictEqual(all.length, 1, 'more than one timeout message');
      assert.match(found[0].text, /rnnGradients\.timeoutSeconds/);
    } finally {
      await workspaceSettings(undefined);
    }
  });

  it('schema completion: suggest on a new key in a model file offers the model-file keys (hidden_size)', async function () {
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    await openFromExplorer(session.modelName);
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-lines').click();
    await page.keyboard.press('Control+Home');
    // The first line is "{": a new line below it holds the new key.
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.type('"hid');
    await page.keyboard.press('Control+Space');
    const row = page.locator('.suggest-widget .monaco-list-row', { hasText: 'hidden_size' }).first();
    await row.waitFor({ state: 'visible', timeout: 30000 });
    const labels = await page.locator('.suggest-widget .monaco-list-row').allInnerTexts();
    console.log(`    suggestions: ${labels.map((l) => l.replace(/\s+/g, ' ').trim()).join(' | ')}`);
    await page.keyboard.press('Escape');
    await runCommand('File: Revert File');
  });

  it('opens the training timeline of a folder from the Explorer context menu, its four charts drawn', async function () {
    const page = session.page;
    await runCommand('View: Close All Editor Groups');
    await openFromExplorer(session.modelName);
    const folderRow = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${timelineFolder}"]`).first();
    await folderRow.waitFor({ state: 'visible', timeout: 60000 });
    await folderRow.click({ button: 'right' });
    const item = page.getByRole('menuitem', { name: /Analyze RNN gradients/ }).first();
    await item.waitFor({ state: 'visible', timeout: 30000 });
    await item.click();
    await page
      .locator(`.tabs-container .tab[aria-label*="Timeline: ${timelineFolder}"]`)
      .first()
      .waitFor({ state: 'visible', timeout: 60000 });
    const shown = await until(
      'the timeline page with both checkpoints and four painted charts',
      async () => {
        const t = await timelinePage();
        return t && t.steps.length === 2 && t.painted.length === 4 && t.painted.every((n) => n > 0) ? t : undefined;
      },
      90000,
    );
    await screenshot('e2e-timeline');
    assert.match(shown.title, new RegExp(`^Timeline: ${timelineFolder}`));
    assert.deepStrictEqual(shown.steps, [100, 200]);
    assert.strictEqual(shown.watching, false);
  });

  it('Watch (clicked in the panel) adds a checkpoint written later without taking focus from the editor', async function () {
    const page = session.page;
    const before = await timelinePage();
    assert.ok(before, 'no timeline page');
    await before.frame.locator('button[data-focus-key="watch"]').click();
    await until('the Watch button pressed', async () => (await timelinePage())?.watching === true, 30000);
    // Back to the model file in the first group, as a person would keep typing there while the model trains.
    // A click on its tab focuses the text editor (a click into the text may land on a code lens).
    const modelTab = page
      .locator('.editor-group-container')
      .first()
      .locator(`.tab[aria-label*="${session.modelName}"]`)
      .first();
    await modelTab.click();
    const focusedBefore = await until('focus in the model editor', focusedTextEditor, 15000);
    assert.ok(focusedBefore.includes(session.modelName), `focus is in ${focusedBefore}`);
    const tabsBefore = await tabLabels();
    fs.copyFileSync(
      path.join(timelineSource, 'step_300.rnn.json'),
      path.join(session.workspace, timelineFolder, 'step_300.rnn.json'),
    );
    const after = await until(
      'step 300 in the timeline',
      async () => {
        const t = await timelinePage();
        return t && t.steps.length === 3 && t.painted.every((n) => n > 0) ? t : undefined;
      },
      90000,
    );
    assert.deepStrictEqual(after.steps, [100, 200, 300]);
    await harness.sleep(1000);
    assert.strictEqual(await focusedTextEditor(), focusedBefore, 'the timeline took the focus from the editor');
    assert.deepStrictEqual(await tabLabels(), tabsBefore, 'tabs opened or closed while watching');
    await after.frame.locator('button[data-focus-key="watch"]').click();
    await until('the Watch button released', async () => (await timelinePage())?.watching === false, 30000);
  });

  it('clicking a step on a timeline chart, or its row, opens that checkpoint’s full report', async function () {
    const page = session.page;
    const t = await timelinePage();
    assert.ok(t && t.steps.length === 3, 'no timeline of three steps');
    // Steps 100, 200, 300 span the x axis: the middle of the gradient-norm chart is nearest to step 200.
    const canvas = t.frame.locator('section[data-chart="gradNormTimeline"] canvas');
    const box = await canvas.boundingBox();
    assert.ok(box, 'the gradient-norm chart has no box');
    await canvas.click({ position: { x: box.width / 2 + 10, y: box.height / 2 } });
    await page
      .locator('.tabs-container .tab[aria-label*="Gradients: step_200"]')
      .first()
      .waitFor({ state: 'visible', timeout: 60000 });
    const report200 = await until('the report of step 200 drawn', () => reportPageShowing('step 200'), 90000);
    assert.ok(report200);
    await screenshot('e2e-timeline-step-report');
    // The table's "Open step 300" button (the timeline tab is still open beside).
    const again = await until('the timeline page', timelinePage, 30000);
    await again.frame.locator('button[data-open-step="300"]').click();
    await page
      .locator('.tabs-container .tab[aria-label*="Gradients: step_300"]')
      .first()
      .waitFor({ state: 'visible', timeout: 60000 });
    assert.ok(await until('the report of step 300 drawn', () => reportPageShowing('step 300'), 90000));
  });

  it('saves a screenshot of the workbench under test-results/', async function () {
    const file = await screenshot('e2e-workbench');
    assert.ok(file && fs.existsSync(file) && fs.statSync(file).size > 1000, 'no screenshot was written');
  });

  describe('out of memory: a second workbench whose analysis worker has a 32 MB heap (RNN_GRADIENTS_WORKER_HEAP_MB)', function () {
    /** Inline weights of a 600-unit rnn: 2.3 MB of JSON, whose parse alone exhausts a 32 MB heap (the examples do not). */
    const bigModelName = 'big-inline-weights.rnn.json';

    before(async function () {
      this.timeout(300000);
      const hidden = 600;
      const row = Array.from({ length: hidden }, (_, j) => (((j % 7) - 3) * 0.001).toFixed(3)).join(', ');
      const text = [
        '{',
        '  "cell": "rnn",',
        '  "weights": {',
        `    "weight_ih_l0": [${Array.from({ length: hidden }, () => '[0.1]').join(', ')}],`,
        '    "weight_hh_l0": [',
        Array.from({ length: hidden }, () => `      [${row}]`).join(',\n'),
        '    ]',
        '  },',
        '  "data": { "inputs": [[[1], [0.5], [0.2]]] },',
        '  "loss": "sum"',
        '}',
        '',
      ].join('\n');
      await restartSession('oom', { env: { RNN_GRADIENTS_WORKER_HEAP_MB: '32' }, files: { [bigModelName]: text } });
    });

    it('a model that exhausts the worker’s memory: one message, the status bar leaves "analyzing", and the next analysis works', async function () {
      this.timeout(240000);
      await openFromExplorer(bigModelName);
      // The extension is active (the workbench was just started) and analyzes the file on open.
      await regimeItem().waitFor({ state: 'visible', timeout: 90000 });
      // The command joins the analysis on open (or, if that one already failed, runs again): one message in all.
      await runCommand('Analyze RNN gradients');
      const found = await until(
        'the out-of-memory message',
        async () => {
          const n = await notificationsMatching(/out of memory/);
          return n.length ? n : undefined;
        },
        90000,
      );
      await until(
        'the status bar no longer analyzing',
        async () => !/analyzing/.test(await regimeItem().innerText()),
        30000,
      );
      console.log(`    status bar after the failure: ${(await regimeItem().innerText()).trim()}`);
      await harness.sleep(3000);
      const all = await notificationsMatching(/out of memory/);
      console.log(`    message: ${all.map((n) => n.text).join(' | ')}`);
      assert.strictEqual(all.length, 1, 'more than one out-of-memory message');
      assert.match(found[0].text, /heap is bounded at 32 MB.*fresh worker/);
      // A following analysis (another model, on open) runs on a fresh worker and gets its verdict.
      await openFromExplorer(session.modelName);
      const verdict = await until(
        `the verdict of ${session.modelName} after the failure`,
        async () => {
          const t = (await regimeItem().innerText()).trim();
          return /RNN: stable/.test(t) ? t : undefined;
        },
        90000,
      );
      console.log(`    next analysis: ${verdict}`);
      assert.strictEqual((await notificationsMatching(/out of memory/)).length, 1, 'a second out-of-memory message');
    });
  });

  describe('Restricted Mode: a second workbench with workspace trust on and the folder not trusted', function () {
    before(async function () {
      this.timeout(300000);
      // No trust prompt at startup: the folder, never trusted in this fresh user-data-dir, opens in Restricted Mode.
      // The user's limit is 2 s; the workspace tries to remove it (0: no limit).
      await restartSession('restricted', {
        workspaceTrust: true,
        userSettings: { 'security.workspace.trust.startupPrompt': 'never', 'rnnGradients.timeoutSeconds': 2 },
        folderSettings: { 'rnnGradients.timeoutSeconds': 0 },
      });
    });

    it('the workbench is in Restricted Mode, and a model file is still analyzed (its verdict in the status bar)', async function () {
      const page = session.page;
      await page
        .locator('.part.statusbar .statusbar-item', { hasText: 'Restricted Mode' })
        .first()
        .waitFor({ state: 'visible', timeout: 60000 });
      await openFromExplorer(session.modelName);
      const verdict = await until(
        `the verdict of ${session.modelName} in the status bar`,
        async () => {
          const t = (await regimeItem().innerText()).trim();
          return /RNN: stable/.test(t) ? t : undefined;
        },
        90000,
      );
      console.log(`    Restricted Mode: ${verdict}`);
    });

    it('the workspace’s rnnGradients.timeoutSeconds 0 is ignored there: the user’s 2 s limit stops a long analysis, with one message', async function () {
      this.timeout(240000);
      await openFromExplorer(longModelName);
      const found = await until(
        'the timeout message',
        async () => {
          const n = await notificationsMatching(/timed out/);
          return n.length ? n : undefined;
        },
        90000,
      );
      await until(
        'the status bar no longer analyzing',
        async () => !/analyzing/.test(await regimeItem().innerText()),
        30000,
      );
      await harness.sleep(3000);
      const all = await notificationsMatching(/timed out/);
      console.log(`    Restricted Mode timeout: ${all.map((n) => n.text).join(' | ')}`);
      assert.strictEqual(all.length, 1, 'more than one timeout message');
      assert.match(found[0].text, /timed out after 2000 ms.*rnnGradients\.timeoutSeconds/);
    });
  });
});

module.exports = { stopSession };
