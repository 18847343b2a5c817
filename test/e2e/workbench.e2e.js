// UI-level end-to-end test: the packaged .vsix installed into code-server, the workbench driven through
// Chromium as a person would (Explorer, Problems panel, F1 command palette, report webview).
// Checks whose feature is not built yet are marked pending with a reason; every other check runs and can fail.
// Run by test/e2e/run-e2e.js (`npm run test:e2e`).
'use strict';

const assert = require('assert');
const childProcess = require('child_process');
const fs = require('fs');
const path = require('path');
const harness = require('../harness/harness');

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

/** What the built extension can do, read from its bundle: decides which checks are pending. */
function builtFeatures() {
  const bundle = fs.readFileSync(path.join(repoRoot, 'dist', 'extension.js'), 'utf8');
  return {
    diagnostics: bundle.includes('createDiagnosticCollection'),
    reportPanel: bundle.includes('createWebviewPanel'),
    timeline: bundle.includes('rnnGradients.timeline'),
  };
}

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
  features: { diagnostics: false, reportPanel: false, timeline: false },
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
  await row.waitFor({ state: 'visible', timeout: 60000 });
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
  await bell.click({ timeout: 10000 });
  const center = page.locator('.notifications-center');
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

/** Draw statistics of every canvas in every webview frame: size, visibility, non-transparent pixels. */
async function webviewCanvases() {
  const found = [];
  for (const frame of session.page.frames()) {
    if (!frame.url().includes('webview')) continue;
    const canvases = await frame
      .evaluate(() =>
        Array.from(document.querySelectorAll('canvas')).map((canvas) => {
          const box = canvas.getBoundingClientRect();
          // checkVisibility also sees ancestors with display:none or content-visibility:hidden (a closed <details>).
          const shown =
            typeof canvas.checkVisibility === 'function' ? canvas.checkVisibility({ visibilityProperty: true }) : true;
          const visible = shown && box.width > 0 && box.height > 0 && getComputedStyle(canvas).visibility !== 'hidden';
          let painted = 0;
          if (canvas.width > 0 && canvas.height > 0) {
            const context = canvas.getContext('2d');
            if (context) {
              const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
              for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
            }
          }
          return {
            id: canvas.id || canvas.className || '(canvas)',
            width: canvas.width,
            height: canvas.height,
            visible,
            painted,
          };
        }),
      )
      .catch(() => []);
    for (const c of canvases) found.push({ frame: frame.url().slice(0, 80), ...c });
  }
  return found;
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

/** Runs a command from the F1 palette by its exact label. */
async function runCommand(label) {
  const page = session.page;
  await page.keyboard.press('F1');
  await page.locator('.quick-input-widget input').waitFor({ state: 'visible', timeout: 30000 });
  await page.keyboard.type(label);
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: 30000 });
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 30000 });
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

describe('RNN Gradients in the workbench (packaged .vsix, code-server + Chromium)', function () {
  this.timeout(120000);

  before(async function () {
    this.timeout(600000);
    const paths = await harness.ensureHarness();
    session.features = builtFeatures();
    session.tmpDir = harness.makeTempDir('e2e');
    session.dataDir = path.join(session.tmpDir, 'data');
    session.extDir = path.join(session.tmpDir, 'extensions');
    fs.mkdirSync(session.extDir, { recursive: true });

    const packaged = packageExtension(session.tmpDir);
    session.vsix = packaged.vsix;
    session.packageError = packaged.error;
    session.workspace = harness.copyFolder(harness.exampleFolder(), path.join(session.tmpDir, 'workspace'));
    const models = fs
      .readdirSync(session.workspace)
      .filter((f) => f.endsWith('.rnn.json'))
      .sort();
    session.modelName = preferredModels.find((m) => models.includes(m)) || models[0];
    if (!session.modelName) throw new Error(`no *.rnn.json model at the top of ${session.workspace}`);
    fs.writeFileSync(
      path.join(session.workspace, brokenModelName),
      '{ "cell": "banana", "weights": { "weight_hh_l0": "not a matrix" } }\n',
    );
    fs.mkdirSync(path.join(session.workspace, timelineFolder));
    for (const n of ['step_100.rnn.json', 'step_200.rnn.json'])
      fs.copyFileSync(path.join(timelineSource, n), path.join(session.workspace, timelineFolder, n));

    harness.installVsix(paths, session.vsix, { dataDir: session.dataDir, extDir: session.extDir });
    session.server = await harness.startCodeServer(paths, {
      tmpDir: session.tmpDir,
      dataDir: session.dataDir,
      extDir: session.extDir,
    });
    session.browser = await harness.launchChromium(paths);
    session.page = await session.browser.newPage({ viewport: { width: 1400, height: 900 } });
    await session.page.goto(harness.workbenchUrl(session.server, session.workspace), {
      waitUntil: 'domcontentloaded',
      timeout: 60000,
    });
    await session.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90000 });
    await session.page
      .locator('.explorer-folders-view .monaco-list-row')
      .first()
      .waitFor({ state: 'visible', timeout: 90000 });
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
    if (!session.features.diagnostics) {
      console.log('    pending: editor diagnostics are not built yet (no diagnostic collection in dist/extension.js)');
      this.skip();
    }
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

  it('draws the report panel charts in its webview', async function () {
    if (!session.features.reportPanel) {
      console.log('    pending: the report panel is not built yet (no webview panel in dist/extension.js)');
      this.skip();
    }
    let canvases = [];
    const deadline = Date.now() + 60000;
    while (Date.now() < deadline) {
      canvases = await webviewCanvases();
      const visible = canvases.filter((c) => c.visible);
      if (visible.length && visible.every((c) => c.painted > 0)) break;
      await harness.sleep(1000);
    }
    const file = await screenshot('e2e-report-panel');
    console.log(
      `    canvases: ${JSON.stringify(canvases)}; screenshot: ${file ? path.relative(repoRoot, file) : '(none)'}`,
    );
    const visible = canvases.filter((c) => c.visible);
    assert.ok(visible.length > 0, 'no visible canvas in any webview frame');
    const blank = visible.filter((c) => c.painted === 0);
    assert.deepStrictEqual(blank, [], 'some visible canvases drew nothing');
  });

  it('opens the training timeline of a folder from the Explorer context menu, its four charts drawn', async function () {
    if (!session.features.timeline) {
      console.log('    pending: the timeline panel is not built yet');
      this.skip();
    }
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
    if (!session.features.timeline) this.skip();
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
    if (!session.features.timeline) this.skip();
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
});

module.exports = { stopSession };
