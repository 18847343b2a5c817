// Browser test of the report panel front end, in Debian's Chromium driven by playwright-core.
//
// Its small report is produced by the engine (the built CLI on test/fixtures/reports/small.rnn.json); the 10,000-lag
// one is synthetic (make-large-fixture.js), for the render-time budget.
//
// The page is built by the same buildWebviewHtml() the extension host uses (bundled here with esbuild), served
// over HTTP with dist/webview.js and dist/webview.css (run `npm run build` first). A stub acquireVsCodeApi is
// injected before the page script and records every posted message; reports from test/fixtures/reports are
// posted into the page as the host would. The page's test hook (window.rnnGradientsTest, enabled only by
// window.__RNN_GRADIENTS_TEST__, see webview/main.ts) exposes chart datasets and annotation labels.
//
// Run: node test/browser/webview.test.js   (prints "N passed, N failed"; exits non-zero on failure)
'use strict';
const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const os = require('os');
const path = require('path');
const esbuild = require('esbuild');
const { chromium } = require('playwright-core');
const { spawnSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..', '..');
const RESULTS = path.join(ROOT, 'test-results');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'reports');
/**
 * The render-time target (median, report posted → rendered) of a 10,000-lag report. A shared, loaded machine makes
 * any such figure noisy, so the test prints its figures and fails only beyond a generous sanity bound
 * (RENDER_SANITY_MS); `RNN_GRADIENTS_STRICT_TIMING=1` enforces the target itself (docs/testing.md, "Speed targets",
 * records the figures measured that way).
 */
const RENDER_BUDGET_MS = 300;
const RENDER_SANITY_MS = 2000;
const STRICT_TIMING = process.env.RNN_GRADIENTS_STRICT_TIMING === '1';
const RENDER_LIMIT_MS = STRICT_TIMING ? RENDER_BUDGET_MS : RENDER_SANITY_MS;
const TRIALS = 5;
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

const THEMES = {
  dark: {
    bodyClass: 'vscode-dark',
    vars: {
      '--vscode-font-family': 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': 'monospace',
      '--vscode-editor-foreground': '#cccccc',
      '--vscode-editor-background': '#1f1f1f',
      '--vscode-descriptionForeground': '#9d9d9d',
      '--vscode-panel-border': '#2b2b2b',
      '--vscode-widget-border': '#313131',
      '--vscode-editorWidget-background': '#202020',
      '--vscode-focusBorder': '#0078d4',
      '--vscode-button-background': '#0078d4',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#026ec1',
      '--vscode-button-secondaryBackground': '#313131',
      '--vscode-button-secondaryForeground': '#cccccc',
      '--vscode-button-secondaryHoverBackground': '#3c3c3c',
      '--vscode-badge-background': '#616161',
      '--vscode-badge-foreground': '#f8f8f8',
      '--vscode-textLink-foreground': '#4daafc',
      '--vscode-textCodeBlock-background': '#2b2b2b',
      '--vscode-list-hoverBackground': '#2a2d2e',
      '--vscode-errorForeground': '#f85149',
      '--vscode-editorWarning-foreground': '#cca700',
      '--vscode-editorInfo-foreground': '#3794ff',
      '--vscode-progressBar-background': '#0078d4',
      '--vscode-charts-foreground': '#cccccc',
      '--vscode-charts-lines': 'rgba(204, 204, 204, 0.15)',
      '--vscode-charts-blue': '#3794ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#89d185',
      '--vscode-charts-purple': '#b180d7',
      '--vscode-charts-red': '#f14c4c',
      '--vscode-charts-yellow': '#cca700',
      '--vscode-dropdown-background': '#313131',
      '--vscode-dropdown-foreground': '#cccccc',
      '--vscode-dropdown-border': '#3c3c3c',
    },
  },
  light: {
    bodyClass: 'vscode-light',
    vars: {
      '--vscode-font-family': 'system-ui, -apple-system, "Segoe UI", Ubuntu, sans-serif',
      '--vscode-font-size': '13px',
      '--vscode-editor-font-family': 'monospace',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-editor-background': '#ffffff',
      '--vscode-descriptionForeground': '#717171',
      '--vscode-panel-border': '#e5e5e5',
      '--vscode-widget-border': '#e5e5e5',
      '--vscode-editorWidget-background': '#f8f8f8',
      '--vscode-focusBorder': '#005fb8',
      '--vscode-button-background': '#005fb8',
      '--vscode-button-foreground': '#ffffff',
      '--vscode-button-hoverBackground': '#0258a8',
      '--vscode-button-secondaryBackground': '#e5e5e5',
      '--vscode-button-secondaryForeground': '#3b3b3b',
      '--vscode-button-secondaryHoverBackground': '#cccccc',
      '--vscode-badge-background': '#cccccc',
      '--vscode-badge-foreground': '#3b3b3b',
      '--vscode-textLink-foreground': '#005fb8',
      '--vscode-textCodeBlock-background': '#f2f2f2',
      '--vscode-list-hoverBackground': '#f2f2f2',
      '--vscode-errorForeground': '#e51400',
      '--vscode-editorWarning-foreground': '#bf8803',
      '--vscode-editorInfo-foreground': '#1a85ff',
      '--vscode-progressBar-background': '#005fb8',
      '--vscode-charts-foreground': '#616161',
      '--vscode-charts-lines': 'rgba(97, 97, 97, 0.15)',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-purple': '#652d90',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-dropdown-background': '#ffffff',
      '--vscode-dropdown-foreground': '#3b3b3b',
      '--vscode-dropdown-border': '#cecece',
    },
  },
};

// ---- tiny harness ----

const results = [];
/** RNN_GRADIENTS_BROWSER_GREP=TEXT runs only the tests whose name holds TEXT (while working on one; the full run is the test). */
const GREP = process.env.RNN_GRADIENTS_BROWSER_GREP || '';
async function test(name, fn) {
  if (GREP && !name.includes(GREP)) return;
  const start = Date.now();
  try {
    await fn();
    results.push({ name, ok: true });
    console.log(`  ✓ ${name} (${Date.now() - start} ms)`);
  } catch (error) {
    results.push({ name, ok: false });
    console.log(`  ✗ ${name}\n      ${(error && error.stack) || error}`);
  }
}
function assert(cond, message) {
  if (!cond) throw new Error(message);
}

// ---- page construction ----

/** Bundles src/shared/webviewHtml.ts (the host's HTML builder) into a temporary CommonJS module and loads it. */
async function loadHtmlBuilder() {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-webview-')), 'webviewHtml.js');
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'src/shared/webviewHtml.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: out,
    logLevel: 'error',
  });
  return require(out);
}

function serve(buildHtml) {
  const dist = path.join(ROOT, 'dist');
  const types = { '.js': 'text/javascript', '.css': 'text/css' };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (url.pathname === '/' || url.pathname === '/panel.html' || url.pathname === '/timeline.html') {
      const origin = `http://127.0.0.1:${server.address().port}`;
      const html = buildHtml({
        cspSource: origin,
        nonce: crypto.randomBytes(24).toString('base64url'),
        scriptUri: `${origin}/dist/webview.js`,
        styleUri: `${origin}/dist/webview.css`,
        mode: url.pathname === '/timeline.html' ? 'timeline' : 'report',
      });
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
      return;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    const m = /^\/dist\/(webview\.(?:js|css))$/.exec(url.pathname);
    if (m) {
      res.writeHead(200, { 'content-type': types[path.extname(m[1])] });
      res.end(fs.readFileSync(path.join(dist, m[1])));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Runs in the page before its script: the stub VS Code API, the test-hook switch, CSP and dialog tripwires. */
function initScript({ savedState }) {
  window.__RNN_GRADIENTS_TEST__ = true;
  window.__posted = [];
  window.__violations = [];
  window.__state = savedState;
  document.addEventListener('securitypolicyviolation', (e) =>
    window.__violations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample }),
  );
  window.alert = () => {
    window.__alerted = true;
  };
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi called twice');
    acquired = true;
    return {
      postMessage: (m) => window.__posted.push({ at: performance.now(), message: JSON.parse(JSON.stringify(m)) }),
      getState: () => window.__state,
      setState: (s) => {
        window.__state = JSON.parse(JSON.stringify(s));
      },
    };
  };
}

async function openPage(browser, origin, theme, savedState, pagePath = 'panel.html') {
  const page = await browser.newPage({ viewport: { width: 1000, height: 900 }, deviceScaleFactor: 1 });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  page.on('console', (m) => {
    // CSP reports of the deliberately injected inline script are checked by their own test.
    if (m.type() === 'error' && !/Content Security Policy/.test(m.text())) errors.push(new Error(m.text()));
  });
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await page.addInitScript(initScript, { savedState: savedState ?? undefined });
  await page.goto(`${origin}/${pagePath}`);
  await page.waitForFunction(() => window.__posted.some((p) => p.message.type === 'ready'));
  // As VS Code does: theme variables on <html style> and the theme class on <body> (the page re-themes on change).
  await setTheme(page, theme);
  return { page, errors, dialogs: () => dialogs };
}

async function setTheme(page, theme) {
  await page.evaluate(({ vars, bodyClass }) => {
    for (const [k, v] of Object.entries(vars)) document.documentElement.style.setProperty(k, v);
    document.body.classList.remove('vscode-light', 'vscode-dark', 'vscode-high-contrast', 'vscode-high-contrast-light');
    document.body.classList.add(bodyClass);
  }, THEMES[theme]);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

/** Posts a report as the host would, and waits for `rendered` of that seq; returns the page-measured time. */
async function postReport(page, key, seq, currentClipNorm = 100, documentUri = 'file:///work/examples/tanh.rnn.json') {
  const ms = await page.evaluate(
    ({ key, seq, currentClipNorm, documentUri }) =>
      new Promise((resolve) => {
        if (typeof window.gc === 'function') window.gc();
        const t0 = performance.now();
        const before = window.__posted.length;
        window.postMessage({ type: 'report', documentUri, report: window.__reports[key], currentClipNorm, seq }, '*');
        const poll = () => {
          const hit = window.__posted.slice(before).find((p) => p.message.type === 'rendered' && p.message.seq === seq);
          if (hit) resolve(hit.at - t0);
          else setTimeout(poll, 1);
        };
        poll();
      }),
    { key, seq, currentClipNorm, documentUri },
  );
  return ms;
}

/** Puts a report into the page under a key, ahead of the timed postMessage (CDP transfer is not timed). */
async function stageReport(page, key, report) {
  await page.evaluate(
    ({ key, report }) => {
      window.__reports = window.__reports || {};
      window.__reports[key] = report;
    },
    { key, report },
  );
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Posts the staged report `key` TRIALS times (new seq each) and returns the times, waiting for idle between. */
async function timeRenders(page, key, firstSeq, trials) {
  const times = [];
  for (let k = 0; k < trials; k++) {
    times.push(await postReport(page, key, firstSeq + k, 2.5, 'file:///work/models/long.rnn.json'));
    await page.waitForTimeout(300);
  }
  return times;
}

async function posted(page, type) {
  return page.evaluate((t) => window.__posted.filter((p) => p.message.type === t).map((p) => p.message), type);
}

/** For each chart section: how many pixels of its canvas are not transparent. */
async function inkPerCanvas(page) {
  return page.evaluate(() => {
    const out = {};
    for (const section of document.querySelectorAll('section[data-chart]')) {
      const canvas = section.querySelector('.chart-box canvas');
      if (!canvas || !canvas.width || !canvas.height || section.closest('details:not([open])')) continue;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
      out[section.dataset.chart] = ink;
    }
    // The per-layer gate distribution charts of the "Gates and units" section.
    for (const canvas of document.querySelectorAll('canvas[data-gate-layer]')) {
      if (!canvas.width || !canvas.height) continue;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let ink = 0;
      for (let i = 3; i < data.length; i += 4) if (data[i] > 0) ink++;
      out[`gates-layer-${canvas.dataset.gateLayer}`] = ink;
    }
    return out;
  });
}

async function canvasDigest(page, id) {
  return page.evaluate((id) => {
    const c = document.querySelector(`section[data-chart="${id}"] .chart-box canvas`);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let h = 0;
    for (let i = 0; i < d.length; i += 7) h = (h * 31 + d[i]) >>> 0;
    return h;
  }, id);
}

/** Posts a timeline as the host would and waits for its `rendered`. */
async function postTimeline(page, timeline, seq, extra = {}) {
  await page.evaluate(
    ({ timeline, seq, extra }) =>
      new Promise((resolve) => {
        const before = window.__posted.length;
        window.postMessage(
          {
            type: 'timeline',
            title: 'timeline-models',
            timeline,
            seq,
            watching: false,
            running: null,
            sources: ['file:///work/test/fixtures/timeline-models'],
            base: null,
            ...extra,
          },
          '*',
        );
        const poll = () => {
          const hit = window.__posted.slice(before).find((p) => p.message.type === 'rendered' && p.message.seq === seq);
          if (hit) resolve();
          else setTimeout(poll, 1);
        };
        poll();
      }),
    { timeline, seq, extra },
  );
}

/** The timeline page (mode "timeline"): four charts against the step, findings marked, clicks post openStep. */
async function timelineTests(browser, origin) {
  // test/fixtures/reports/timeline.json: `track` on test/fixtures/timeline-models (tools/make_timeline_models.js).
  const timeline = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'timeline.json'), 'utf8'));
  const { page, errors } = await openPage(browser, origin, 'dark', undefined, 'timeline.html');
  const ids = ['gradNormTimeline', 'rateTimeline', 'sigmaTimeline', 'clipTimeline'];

  await test('timeline: the page loads under its CSP and draws four charts with ink', async () => {
    await postTimeline(page, timeline, 1);
    const rendered = (await posted(page, 'rendered')).find((m) => m.seq === 1);
    assert(rendered && rendered.charts === 4, `rendered: ${JSON.stringify(rendered)}`);
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
    const ink = await inkPerCanvas(page);
    for (const id of ids) assert(ink[id] > 2000, `${id} canvas looks blank (${ink[id]} px)`);
    const violations = await page.evaluate(() => window.__violations);
    assert(violations.length === 0, `CSP violations: ${JSON.stringify(violations)}`);
  });

  await test('timeline: charts are labelled, one point per step, findings marked at their steps', async () => {
    const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
    const steps = timeline.entries.map((e) => e.step);
    for (const id of ids) {
      const c = charts.find((x) => x.id === id);
      assert(c, `no ${id} chart`);
      assert(c.datasets[0].points === steps.length, `${id}: ${c.datasets[0].points} points for ${steps.length} steps`);
      for (const f of timeline.findings) {
        const mark = c.annotations.find((a) => a.value === f.step && a.label.startsWith(f.code));
        assert(mark, `${id}: no marker for ${f.code} at ${f.step}: ${JSON.stringify(c.annotations)}`);
      }
    }
    const rate = charts.find((x) => x.id === 'rateTimeline');
    assert(rate.datasets[0].label === 'Layer 0', `rate series label: ${rate.datasets[0].label}`);
    assert(
      rate.annotations.some((a) => a.label === 'exploding ≥ +0.01') &&
        rate.annotations.some((a) => a.label === 'vanishing ≤ -0.03'),
      `thresholds: ${JSON.stringify(rate.annotations)}`,
    );
    const regime = charts[0].annotations.find((a) => a.value === 600 && a.label.startsWith('regime-change'));
    assert(regime && /stable → exploding/.test(regime.label), `regime marker: ${JSON.stringify(regime)}`);
    const headings = await page.locator('section[data-chart] h2').allInnerTexts();
    assert(
      JSON.stringify(headings) ===
        JSON.stringify(['Gradient norm', 'Log10 rate per step', 'σ_max(W_hh)', 'Recommended clip_norm']),
      `headings: ${JSON.stringify(headings)}`,
    );
    const canvasLabel = await page.locator('section[data-chart="gradNormTimeline"] canvas').getAttribute('aria-label');
    assert(/Gradient norm chart/.test(canvasLabel), `aria-label: ${canvasLabel}`);
  });

  await test('timeline: clicking a point on a chart posts openStep for that step', async () => {
    // The spike at step 400 is the 4th entry (index 3).
    const at = await page.evaluate(() => window.rnnGradientsTest.pointAt('gradNormTimeline', 0, 3));
    assert(at, 'no position for the point');
    await page.locator('section[data-chart="gradNormTimeline"] canvas').scrollIntoViewIfNeeded();
    // Two frames for the scroll (and any resize it causes) to settle before the point's position is read.
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const again = await page.evaluate(() => window.rnnGradientsTest.pointAt('gradNormTimeline', 0, 3));
    await page.mouse.click(again.x, again.y);
    // The click's message may be posted after this test reads the list: wait for it (the assertion decides).
    await page
      .waitForFunction(() => window.__posted.some((p) => p.message.type === 'openStep'), null, { timeout: 3000 })
      .catch(() => undefined);
    const open = (await posted(page, 'openStep')).pop();
    assert(open && open.step === 400 && open.file === timeline.entries[3].file, `openStep: ${JSON.stringify(open)}`);
  });

  await test('timeline: findings and table rows open their step; the Watch toggle posts setWatch', async () => {
    await page.locator('button.finding[data-code="grad-norm-spike"]').first().click();
    let open = (await posted(page, 'openStep')).pop();
    assert(open && open.step === 400, `finding click: ${JSON.stringify(open)}`);
    await page.locator('button[data-open-step="600"]').click();
    open = (await posted(page, 'openStep')).pop();
    assert(open && open.step === 600, `row click: ${JSON.stringify(open)}`);
    const rows = await page.locator('tr[data-step]').count();
    assert(rows === timeline.entries.length, `${rows} table rows`);
    await page.locator('button[data-focus-key="watch"]').click();
    const watch = (await posted(page, 'setWatch')).pop();
    assert(watch && watch.on === true, `setWatch: ${JSON.stringify(watch)}`);
    await postTimeline(page, timeline, 2, { watching: true });
    const pressed = await page.locator('button[data-focus-key="watch"]').getAttribute('aria-pressed');
    assert(pressed === 'true', `aria-pressed: ${pressed}`);
  });

  await test('timeline: "Show as table" gives each chart as a table; an error entry is listed', async () => {
    await page.locator('section[data-chart="clipTimeline"] button', { hasText: 'Show as table' }).click();
    const cells = await page.locator('section[data-chart="clipTimeline"] .table-box td').allInnerTexts();
    assert(cells.length === 2 * timeline.entries.length, `clip table cells: ${cells.length}`);
    const withError = {
      ...timeline,
      entries: [...timeline.entries, { file: 'x/step_700.rnn.json', step: 700, error: 'x:1:1: broken' }],
    };
    await postTimeline(page, withError, 3);
    const errorItem = await page.locator('button.finding[data-code="error"]').innerText();
    assert(/step 700/.test(errorItem) && /broken/.test(errorItem), `error entry: ${errorItem}`);
    // The page saves its state 50 ms after a change (timelineView.ts scheduleSave): wait for that save (a clean-clone
    // CI run under load read a state without the table once), then check it; a state that never has it still fails.
    await page
      .waitForFunction(() => window.__state && (window.__state.tables || []).includes('clipTimeline'), null, {
        timeout: 5000,
      })
      .catch(() => undefined);
    const state = await page.evaluate(() => window.__state);
    assert(
      state.mode === 'timeline' && state.tables.includes('clipTimeline'),
      `state: mode ${state.mode}, tables ${JSON.stringify(state.tables)}`,
    );
  });

  await test('timeline: a restored page shows its saved timeline at once', async () => {
    const state = await page.evaluate(() => window.__state);
    const { page: restored, errors: restoredErrors } = await openPage(browser, origin, 'light', state, 'timeline.html');
    const charts = await restored.evaluate(() => window.rnnGradientsTest.charts());
    assert(charts.length === 4, `restored charts: ${charts.length}`);
    await restored.screenshot({ path: path.join(RESULTS, 'timeline-light.png'), fullPage: true });
    assert(restoredErrors.length === 0, restoredErrors.map((e) => e.message).join('; '));
    await restored.close();
  });

  await test('timeline: screenshot (dark) and no page errors', async () => {
    await postTimeline(page, timeline, 4);
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(RESULTS, 'timeline-dark.png'), fullPage: true });
    assert(errors.length === 0, errors.map((e) => e.message).join('; '));
  });
  await page.close();
}
/**
 * The report the built CLI (`rnn-gradients analyze FILE --json`) writes for a model file of the repository, analyzed
 * under a file name with markup in it (user data the panel must keep as text, like the model's name).
 */
function engineReport(file) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-browser-'));
  const name = `<b>${path.basename(file)}`;
  fs.copyFileSync(path.join(ROOT, file), path.join(dir, name));
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'analyze', name, '--json'], {
    cwd: dir,
    encoding: 'utf8',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`rnn-gradients analyze ${file} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/**
 * The report the built CLI writes for a model given as text (a variant of a fixture: other data, batch size),
 * analyzed in a temporary folder.
 */
function engineReportOfText(text, name = 'variant.rnn.json', args = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-browser-'));
  fs.writeFileSync(path.join(dir, name), text);
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'analyze', name, '--json', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`rnn-gradients analyze ${name} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The report the built CLI writes for a file of the repository, analyzed in place (its weights beside it). */
function exampleReport(file) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'analyze', file, '--json'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`rnn-gradients analyze ${file} exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const SUPERSCRIPTS = {
  '⁰': '0',
  '¹': '1',
  '²': '2',
  '³': '3',
  '⁴': '4',
  '⁵': '5',
  '⁶': '6',
  '⁷': '7',
  '⁸': '8',
  '⁹': '9',
  '⁻': '-',
};

/** log10 of the number a tick label shows: "10⁻³", "2×10⁻³", "10⁻⁵⁰⁰", "1", "20", "0.5" (NaN for anything else). */
function log10OfLabel(label) {
  const m = /^(?:(\d+(?:\.\d+)?)×)?10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻]*)$/.exec(label.trim());
  if (m) {
    const exponent = m[2] ? Number([...m[2]].map((c) => SUPERSCRIPTS[c]).join('')) : 1;
    return (m[1] ? Math.log10(Number(m[1])) : 0) + exponent;
  }
  return /^\d+(?:\.\d+)?$/.test(label.trim()) ? Math.log10(Number(label)) : NaN;
}

/** Whether two rectangles ({left, top, right, bottom}) overlap by more than a pixel. */
function rectsOverlap(a, b) {
  return a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
}

/**
 * Checks the clipping chart's drawn geometry: every threshold line has a label box holding its y; no box overlaps
 * a bar or another box; every text row fits its box and the canvas; the bars fill the x axis (no empty slots).
 */
async function checkClippingGeometry(page, what, batches) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  const g = await page.evaluate(() => window.rnnGradientsTest.geometry('clipping'));
  const where = `${what}: ${JSON.stringify({ area: g.area, lines: g.lines, labels: g.labels })}`;
  assert(g.lines.length >= 2, `${what}: ${g.lines.length} threshold lines`);
  const boxes = g.labels.map((l) => ({ ...l, left: l.x, top: l.y, right: l.x + l.w, bottom: l.y + l.h }));
  for (const line of g.lines) {
    const box = boxes.find((b) => b.ids.includes(line.id));
    assert(box, `${what}: no label for ${line.id}: ${where}`);
    assert(box.top <= line.at && line.at <= box.bottom, `${what}: the label of ${line.id} is off its line: ${where}`);
  }
  for (let i = 0; i < boxes.length; i++) {
    const b = boxes[i];
    assert(b.textRight <= b.right + 0.5 && b.right <= g.width + 0.5, `${what}: a label is cut: ${JSON.stringify(b)}`);
    for (let j = i + 1; j < boxes.length; j++)
      assert(!rectsOverlap(b, boxes[j]), `${what}: labels overlap: ${JSON.stringify([b, boxes[j]])}`);
    for (const bar of g.bars)
      assert(!rectsOverlap(b, bar), `${what}: a label covers a bar: ${JSON.stringify([b, bar])}`);
  }
  assert(g.bars.length === batches, `${what}: ${g.bars.length} bars for ${batches} batches`);
  const slot = (g.area.right - g.area.left) / batches;
  const first = (g.bars[0].left + g.bars[0].right) / 2;
  const last = (g.bars[g.bars.length - 1].left + g.bars[g.bars.length - 1].right) / 2;
  assert(
    Math.abs(first - (g.area.left + slot / 2)) <= 1.5 && Math.abs(last - (g.area.right - slot / 2)) <= 1.5,
    `${what}: empty batch slots on the x axis (slot ${slot}, first bar at ${first}, last at ${last}, area ${JSON.stringify(g.area)})`,
  );
  return g;
}

/**
 * Each legend item of a chart as drawn: its text, and the bounding box of the swatch's ink (pixels with alpha > 32
 * between the item's left edge and its text, which starts after the swatch box and half a font size), with the
 * number of separate ink runs along the swatch's middle row. textHeight is the legend font's size.
 */
async function legendSwatches(page, id) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
  return page.evaluate((id) => {
    const g = window.rnnGradientsTest.geometry(id);
    const canvas = document.querySelector(`section[data-chart="${id}"] .chart-box canvas`);
    const ctx = canvas.getContext('2d');
    const measure = document.createElement('canvas').getContext('2d');
    measure.font = g.legendFont;
    const size = Number(/(\d+(?:\.\d+)?)px/.exec(g.legendFont)[1]);
    return g.legend.map((item) => {
      const b = item.box;
      const textLeft = b.right - measure.measureText(item.text).width;
      const x0 = Math.floor(b.left);
      const x1 = Math.floor(textLeft - size / 2);
      const y0 = Math.floor(b.top);
      const y1 = Math.ceil(b.bottom);
      const data = ctx.getImageData(x0, y0, Math.max(1, x1 - x0), Math.max(1, y1 - y0));
      let left = Infinity;
      let right = -Infinity;
      let top = Infinity;
      let bottom = -Infinity;
      const inked = (x, y) => data.data[(y * data.width + x) * 4 + 3] > 32;
      for (let y = 0; y < data.height; y++)
        for (let x = 0; x < data.width; x++)
          if (inked(x, y)) {
            left = Math.min(left, x);
            right = Math.max(right, x);
            top = Math.min(top, y);
            bottom = Math.max(bottom, y);
          }
      let ink = null;
      if (left <= right) {
        const mid = Math.round((top + bottom) / 2);
        let runs = 0;
        for (let x = left; x <= right; x++) if (inked(x, mid) && (x === left || !inked(x - 1, mid))) runs++;
        ink = { w: right - left + 1, h: bottom - top + 1, midY: y0 + (top + bottom + 1) / 2, runs };
      }
      return { text: item.text, textHeight: size, textMidY: (b.top + b.bottom) / 2, box: b, ink };
    });
  }, id);
}

/** A figure as the panel writes it: 4 significant digits (the reports here stay inside 1e-3..1e5). */
const panelNumber = (x) => String(Number(x.toPrecision(4)));
/** A share of batches as the panel writes it (whole percent for these reports). */
const panelShare = (share) => `${Math.round(share * 100)}%`;
/** A threshold as the quick fixes, buttons and code lines write it: 3 significant digits. */
const threshold = (x) => Number(x.toPrecision(3));
/** The share of batch norms above a threshold, computed here from the report's batch norms. */
const shareAbove = (report, t) =>
  report.clipping.batch_norms.filter((n) => n > t).length / report.clipping.batch_norms.length;

// ---- the tests ----

async function main() {
  const distJs = path.join(ROOT, 'dist', 'webview.js');
  if (!fs.existsSync(distJs)) throw new Error('dist/webview.js is missing: run `npm run build` first.');
  const largePath = path.join(FIXTURES, 'large-10000.json');
  if (!fs.existsSync(largePath)) require('./make-large-fixture').main();
  const small = engineReport('test/fixtures/reports/small.rnn.json');
  const large = JSON.parse(fs.readFileSync(largePath, 'utf8'));
  fs.mkdirSync(RESULTS, { recursive: true });

  const { buildWebviewHtml } = await loadHtmlBuilder();
  const server = await serve(buildWebviewHtml);
  const origin = `http://127.0.0.1:${server.address().port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --expose-gc: the timed runs first collect the garbage the test's own staging (CDP transfer) left behind.
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--headless',
      '--js-flags=--expose-gc',
    ],
  });

  try {
    const { page, errors, dialogs } = await openPage(browser, origin, 'dark');
    await stageReport(page, 'small', small);

    await test('the page loads under its CSP with no violation and says ready', async () => {
      const violations = await page.evaluate(() => window.__violations);
      assert(violations.length === 0, `unexpected CSP violations: ${JSON.stringify(violations)}`);
      const csp = await page.evaluate(
        () => document.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
      );
      assert(/default-src 'none'/.test(csp) && /script-src 'nonce-[A-Za-z0-9_-]{32}'/.test(csp), `CSP: ${csp}`);
    });

    await test('a small report renders its charts (four with ink; the gate charts empty without gates)', async () => {
      await postReport(page, 'small', 1);
      const rendered = (await posted(page, 'rendered')).find((m) => m.seq === 1);
      assert(rendered && rendered.charts === 6, `rendered: ${JSON.stringify(rendered)}`);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      const ink = await inkPerCanvas(page);
      for (const id of ['lags', 'contributions', 'clipping', 'pascanu'])
        assert(ink[id] > 2000, `${id} canvas looks blank (${ink[id]} px)`);
    });

    await test('threshold lines (reference-line plugin) carry their labels and the share of batches they clip', async () => {
      const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
      const clipping = charts.find((c) => c.id === 'clipping');
      assert(clipping, 'no clipping chart');
      const labels = clipping.annotations.map((a) => a.label).join(' | ');
      for (const expected of ['mean (Pascanu et al.)', 'median', 'AutoClip p10', 'current clip_norm'])
        assert(labels.includes(expected), `missing "${expected}" in ${labels}`);
      // The file's clip_norm (100, posted with the report) is above every batch norm the engine computed.
      assert(shareAbove(small, 100) === 0, 'the small model was meant to never clip at 100');
      assert(labels.includes('current clip_norm: 100 · clips 0%'), `current clip_norm label: ${labels}`);
      const p10 = small.clipping.suggestions.find((x) => x.method === 'autoclip_p10').clip_norm;
      const p10Label = `AutoClip p10: ${panelNumber(p10)} · clips ${panelShare(shareAbove(small, p10))}`;
      assert(labels.includes(p10Label), `expected "${p10Label}" in ${labels}`);
      const noteText = await page.locator('section[data-chart="clipping"] .notes').innerText();
      assert(/current clip_norm\s+100\s+0%/.test(noteText), `threshold table: ${noteText}`);
      const lags = charts.find((c) => c.id === 'lags');
      assert(
        lags.datasets.some((d) => /measured rate/.test(d.label)),
        'no decay-rate line on the lag chart',
      );
      const pascanu = charts.find((c) => c.id === 'pascanu');
      assert(
        pascanu.annotations.some((a) => a.label === '1/γ = 1'),
        `1/γ line (tanh: γ = 1): ${JSON.stringify(pascanu.annotations)}`,
      );
    });

    await test('clipping chart: each label on its own line, none on a bar or another label, no empty slots (geometry; engine reports)', async () => {
      const base = fs.readFileSync(path.join(ROOT, 'test/fixtures/reports/small.rnn.json'), 'utf8');
      const variant = (sequences, length, batch) =>
        base
          .replace('"sequences": 2, "length": 12', `"sequences": ${sequences}, "length": ${length}`)
          .replace('"batch_size": 1', `"batch_size": ${batch}`);
      const one = engineReportOfText(variant(2, 12, 2));
      const many = engineReportOfText(variant(60, 6, 1));
      assert(one.clipping.batch_norms.length === 1, `one batch: ${one.clipping.batch_norms.length}`);
      assert(many.clipping.batch_norms.length === 60, `many: ${many.clipping.batch_norms.length}`);
      const cases = [
        // The file's clip_norm far above the norms (its line at the top), then one batch under every line.
        ['the small report', small, 100],
        ['a single batch', one, 100],
        ['a single batch, clip_norm below the norm', one, one.clipping.batch_norms[0] / 3],
        ['60 batches', many, 100],
      ];
      // Near-equal thresholds: the file's clip_norm 0.5% above and below the recommended value.
      const rec = small.clipping.recommended.clip_norm;
      cases.push(['clip_norm 0.5% above the recommended value', small, rec * 1.005]);
      cases.push([
        '60 batches, clip_norm 0.5% below the recommended value',
        many,
        many.clipping.recommended.clip_norm * 0.995,
      ]);
      let seq = 200;
      for (const [what, report, clip] of cases) {
        await stageReport(page, 'geometry', report);
        await postReport(page, 'geometry', seq++, clip);
        await checkClippingGeometry(page, what, report.clipping.batch_norms.length);
      }
      // A narrow panel: the labels still fit and stay on their lines.
      await page.setViewportSize({ width: 520, height: 900 });
      await postReport(page, 'geometry', seq++, 100);
      await checkClippingGeometry(page, '60 batches at 520 px', 60);
      await page.setViewportSize({ width: 1000, height: 900 });
      await page
        .locator('section[data-chart="clipping"]')
        .screenshot({ path: path.join(RESULTS, 'chart-clipping-geometry.png') });
      await postReport(page, 'small', seq++);
    });

    await test('advice that applies first: healthy → "nothing to change", vanishing → its remedy (with buttons), exploding → clipping (engine reports)', async () => {
      const order = async (name) => {
        const report = engineReport(`examples/${name}.rnn.json`);
        await stageReport(page, name, report);
        await postReport(page, name, 300 + order.n++, null, `file:///work/examples/${name}.rnn.json`);
        return page.evaluate(() => ({
          cards: Array.from(document.querySelectorAll('.summary .advice > [data-advice]')).map((c) => ({
            id: c.dataset.advice,
            title: c.querySelector('h3, summary').textContent,
            text: c.innerText,
            buttons: Array.from(c.querySelectorAll('button')).map((b) => b.textContent),
          })),
          // The first call to action of the page: the first visible button after the header.
          firstButton:
            Array.from(document.querySelectorAll('.summary button, .findings button'))
              .filter((b) => b.checkVisibility())
              .map((b) => b.textContent)[0] ?? null,
        }));
      };
      order.n = 0;
      const healthy = await order('healthy-lstm');
      assert(
        JSON.stringify(healthy.cards.map((c) => c.id)) === JSON.stringify(['healthy', 'clipping']),
        `healthy-lstm cards: ${JSON.stringify(healthy.cards)}`,
      );
      assert(!/clip/i.test(healthy.cards[0].title), `healthy first card: ${healthy.cards[0].title}`);
      assert(!/^Set clip/.test(healthy.firstButton ?? ''), `healthy-lstm opens with ${healthy.firstButton}`);
      assert(/optional/i.test(healthy.cards[1].text), `healthy clipping card: ${healthy.cards[1].text}`);
      // The clipping advice is still there, folded: opening it shows its buttons.
      await page.locator('.advice [data-advice="clipping"] summary').click();
      assert(
        await page
          .locator('.advice [data-advice="clipping"]')
          .getByRole('button', { name: /^Set clip_norm/ })
          .isVisible(),
        'no clipping button in the opened fold',
      );

      const rnn = await order('vanishing-sigmoid');
      assert(
        JSON.stringify(rnn.cards.map((c) => c.id)) === JSON.stringify(['vanishing', 'clipping']),
        `vanishing-sigmoid cards: ${JSON.stringify(rnn.cards.map((c) => c.id))}`,
      );
      const remedy = rnn.cards[0];
      assert(/gated cell/i.test(remedy.text) && /orthogonal/i.test(remedy.text), `remedy: ${remedy.text}`);
      // σ_max(W_hh) = 2 < 1/γ = 4 for the sigmoid rnn: the rescale button goes to the edge of Pascanu's bound.
      assert(remedy.buttons.includes('Rescale weight_hh_l0 to σ_max 4 (now 2)'), `remedy buttons: ${remedy.buttons}`);
      assert(rnn.firstButton === 'Show "cell" in the file', `vanishing rnn opens with ${rnn.firstButton}`);
      await page.getByRole('button', { name: 'Rescale weight_hh_l0 to σ_max 4 (now 2)' }).click();
      const rescale = (await posted(page, 'applyRemedy')).pop();
      assert(
        JSON.stringify(rescale.remedy) ===
          JSON.stringify({ kind: 'rescale', layer: 0, direction: 'forward', target: 4 }),
        `applyRemedy: ${JSON.stringify(rescale)}`,
      );
      assert(
        rnn.cards[1].buttons.some((b) => /^Set clip_norm/.test(b)),
        'clipping stays available lower down',
      );

      const lstm = await order('lstm-forget-closed');
      assert(lstm.cards[0].id === 'vanishing', `lstm-forget-closed cards: ${lstm.cards.map((c) => c.id)}`);
      assert(
        lstm.cards[0].buttons.includes('Set forget-gate bias to 1.0 (layer 0)'),
        `buttons: ${lstm.cards[0].buttons}`,
      );
      assert(!/gated cell/i.test(lstm.cards[0].text), 'an LSTM is told to use a gated cell');
      await page.getByRole('button', { name: 'Set forget-gate bias to 1.0 (layer 0)' }).click();
      const forget = (await posted(page, 'applyRemedy')).pop();
      assert(
        JSON.stringify(forget.remedy) === JSON.stringify({ kind: 'forgetBias', layer: 0, direction: 'forward' }),
        `applyRemedy: ${JSON.stringify(forget)}`,
      );

      const exploding = await order('exploding-tanh');
      assert(exploding.cards[0].id === 'clipping', `exploding-tanh cards: ${exploding.cards.map((c) => c.id)}`);
      assert(/^Set clip_norm/.test(exploding.firstButton ?? ''), `exploding opens with ${exploding.firstButton}`);
      await postReport(page, 'small', 399);
    });

    await test('a sampled report shows "Compute the exact lag table" by the lag chart, which posts computeExact; an exact one does not', async () => {
      const text = fs.readFileSync(path.join(ROOT, 'test', 'fixtures', 'models', 'exact-on-request.rnn.json'), 'utf8');
      const sampled = engineReportOfText(text, 'sampled.rnn.json', ['--lag-budget', '0.001']);
      assert(sampled.lag_sampling, 'the engine did not sample this report');
      const button = page
        .locator('section[data-chart="lags"]')
        .getByRole('button', { name: 'Compute the exact lag table' });
      assert((await button.count()) === 0, 'the button is shown for the exact small report');
      await stageReport(page, 'sampled', sampled);
      await postReport(page, 'sampled', 400);
      await button.click();
      const asks = await posted(page, 'computeExact');
      assert(asks.length === 1 && Object.keys(asks[0]).join() === 'type', `computeExact: ${JSON.stringify(asks)}`);
      const note = await page.locator('section[data-chart="lags"] .sampled-note').innerText();
      assert(note.includes(`sample of ${sampled.lag_sampling.endpoints} loss terms`), `note: ${note}`);
      // A partial report of the exact run does not offer it again; the exact report removes it.
      const exact = engineReportOfText(text, 'sampled.rnn.json', ['--exact']);
      assert(exact.lag_sampling === null, 'the --exact report is sampled');
      await stageReport(page, 'exact', exact);
      await postReport(page, 'exact', 401);
      assert((await button.count()) === 0, 'the button stays for the exact report');
      await postReport(page, 'small', 402);
    });

    await test('only the verdict is announced: one small live region with the verdict line, updated only when the verdict changes', async () => {
      const live = await page.evaluate(() =>
        Array.from(document.querySelectorAll('[aria-live]')).map((e) => ({
          tag: e.tagName,
          cls: e.className,
          chars: e.textContent.length,
          text: e.textContent,
        })),
      );
      assert(
        !(await page.evaluate(() => document.getElementById('app').hasAttribute('aria-live'))),
        'the whole report is live',
      );
      const verdict = live.filter((l) => /verdict-live/.test(l.cls));
      assert(verdict.length === 1, `live regions: ${JSON.stringify(live)}`);
      assert(
        verdict[0].text ===
          'Gradient verdict: Layer 0: ' +
            small.layers[0].regime +
            (small.layers[0].evidence.borderline ? ' (borderline)' : '') +
            '.',
        `verdict: ${verdict[0].text}`,
      );
      for (const l of live) assert(l.chars < 200, `a live region holds ${l.chars} characters: ${JSON.stringify(l)}`);
      // Re-rendering the same verdict does not touch the region; a new verdict does.
      await page.evaluate(() => {
        window.__verdictMutations = 0;
        new MutationObserver((m) => (window.__verdictMutations += m.length)).observe(
          document.querySelector('.verdict-live'),
          {
            childList: true,
            characterData: true,
            subtree: true,
          },
        );
      });
      await postReport(page, 'small', 410);
      assert((await page.evaluate(() => window.__verdictMutations)) === 0, 'the same verdict was announced again');
      await stageReport(page, 'exploding', engineReport('examples/exploding-tanh.rnn.json'));
      await postReport(page, 'exploding', 411);
      const text = await page.locator('.verdict-live').textContent();
      assert(
        (await page.evaluate(() => window.__verdictMutations)) > 0 && /exploding/.test(text),
        `new verdict: ${text}`,
      );
      await postReport(page, 'small', 412);
    });

    await test('the summary card uses the panel width: one layer spans the row, two share it (geometry at 1000 and 600 px)', async () => {
      const measure = () =>
        page.evaluate(() => {
          const row = document.querySelector('.summary .cards').getBoundingClientRect();
          return Array.from(document.querySelectorAll('.summary .cards .card')).map((c) => {
            const r = c.getBoundingClientRect();
            return { width: r.width, rowWidth: row.width, top: r.top };
          });
        });
      const two = JSON.parse(JSON.stringify(small));
      two.layers = [small.layers[0], { ...small.layers[0], layer: 1 }];
      await stageReport(page, 'two-layers', two);
      for (const width of [1000, 600]) {
        await page.setViewportSize({ width, height: 900 });
        await postReport(page, 'small', 420 + width / 100);
        const one = await measure();
        assert(
          one.length === 1 && one[0].width >= 0.95 * one[0].rowWidth,
          `${width} px, one layer: ${JSON.stringify(one)}`,
        );
        await postReport(page, 'two-layers', 430 + width / 100);
        const cards = await measure();
        const sideBySide = cards[0].top === cards[1].top;
        const total = sideBySide ? cards[0].width + cards[1].width : cards[0].width;
        assert(total >= 0.9 * cards[0].rowWidth, `${width} px, two layers: ${JSON.stringify(cards)}`);
      }
      await page.setViewportSize({ width: 1000, height: 900 });
      await postReport(page, 'small', 440);
    });

    await test('lag chart: the y title is plain text (no TeX), and "mean" and "measured rate" have distinct swatches (point vs dashed line)', async () => {
      await postReport(page, 'small', 450);
      const g = await page.evaluate(() => window.rnnGradientsTest.geometry('lags'));
      assert(!/[_{}\\]/.test(g.yTitle) && /∂sₜ₋ₗ/.test(g.yTitle), `y title: ${g.yTitle}`);
      const intro = await page.locator('section[data-chart="lags"] .intro').innerText();
      assert(!/[_{}]/.test(intro), `intro: ${intro}`);
      const mean = g.legend.find((i) => /mean$/.test(i.text));
      const rate = g.legend.find((i) => /measured rate/.test(i.text));
      assert(mean && rate, `legend: ${JSON.stringify(g.legend)}`);
      assert(mean.lineDash.length === 0 && rate.lineDash.length > 0, `legend dashes: ${JSON.stringify(g.legend)}`);
      // What the legend shows, read from the canvas's pixels between each item's left edge and its text.
      const swatches = await legendSwatches(page, 'lags');
      const sw = (re) => swatches.find((x) => re.test(x.text));
      const where = JSON.stringify(swatches);
      for (const [what, x] of [
        ['mean', sw(/mean$/)],
        ['measured rate', sw(/measured rate/)],
      ]) {
        assert(x && x.ink, `${what}: no swatch drawn: ${where}`);
        const { w, h } = x.ink;
        // As tall as the text at most, at most twice as wide, centred on the text's line.
        assert(h <= x.textHeight + 1 && w <= 2 * x.textHeight + 1, `${what}: swatch ${w}×${h} px: ${where}`);
        assert(Math.abs(x.ink.midY - x.textMidY) <= 1.5, `${what}: swatch off its text's line: ${where}`);
      }
      console.log(`      legend swatches: ${where}`);
      const m = sw(/mean$/).ink;
      const r = sw(/measured rate/).ink;
      // The mean: a round point marker (as wide as tall, a solid run across its middle row).
      assert(Math.abs(m.w - m.h) <= 2 && m.h >= 5 && m.runs === 1, `mean swatch is not a point: ${where}`);
      // The rate: a thin dashed line (wider than tall, several runs of ink along it).
      assert(r.h <= 3 && r.w >= 3 * r.h && r.runs >= 2, `rate swatch is not a dashed line: ${where}`);
    });

    await test('contributions chart: at least 4 labelled y ticks that read as their values, and no share label on the curve (every example report; geometry)', async () => {
      const examples = fs
        .readdirSync(path.join(ROOT, 'examples'))
        .filter((f) => f.endsWith('.rnn.json'))
        .sort();
      assert(examples.length >= 8, `examples: ${examples.join(', ')}`);
      const cases = examples.map((f) => [f, exampleReport(`examples/${f}`)]);
      // Three cut-offs crowded at the left edge of 10,000 lags, two layers.
      cases.push(['the 10,000-lag report', large]);
      let seq = 460;
      for (const [what, report] of cases) {
        await stageReport(page, 'contributions', report);
        await postReport(page, 'contributions', seq++, null, `file:///work/examples/${what}`);
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
        const g = await page.evaluate(() => window.rnnGradientsTest.geometry('contributions'));
        const ticks = g.yTickLabels.filter((t) => t.label.trim() !== '');
        const where = `${what}: ticks ${JSON.stringify(g.yTickLabels.map((t) => t.label))}`;
        assert(ticks.length >= 4, `${where}: fewer than 4 labelled ticks`);
        for (const t of ticks) {
          const shown = log10OfLabel(t.label);
          assert(
            Number.isFinite(shown) && Math.abs(shown - t.value) < 1e-6,
            `${where}: "${t.label}" is not 10^${t.value}`,
          );
        }
        for (let i = 1; i < ticks.length; i++)
          assert(Math.abs(ticks[i].at - ticks[i - 1].at) >= 12, `${where}: tick labels closer than a text line`);
        // The cut-offs the table reaches beyond, each with its share label.
        const maxLag = Math.max(...report.layers.flatMap((l) => l.lags.map((e) => e.lag)));
        const expected = [10, 50, 100].filter((c) => c <= maxLag).map((c) => `cutoff-${c}`);
        const drawn = g.labels.flatMap((l) => l.ids);
        assert(
          JSON.stringify([...drawn].sort()) === JSON.stringify([...expected].sort()),
          `${what}: cut-off labels ${JSON.stringify(drawn)}, expected ${JSON.stringify(expected)}`,
        );
        const boxes = g.labels.map((l) => ({ ...l, left: l.x, top: l.y, right: l.x + l.w, bottom: l.y + l.h }));
        const segments = [];
        for (const pts of g.points)
          for (let i = 0; i < pts.length; i++) segments.push([pts[i], pts[Math.min(i + 1, pts.length - 1)]]);
        assert(segments.length > 0, `${what}: no points`);
        for (const b of boxes) {
          const line = g.lines.find((l) => b.ids.includes(l.id));
          const box = JSON.stringify(b);
          assert(
            b.left >= -0.5 && b.right <= g.width + 0.5 && b.top >= -0.5,
            `${what}: label outside the chart: ${box}`,
          );
          assert(b.textRight <= b.right + 0.5, `${what}: a label is cut: ${box}`);
          // On its own line: the box starts or ends at the line's x.
          assert(
            line && (Math.abs(b.left - line.at) <= 1 || Math.abs(b.right - line.at) <= 1),
            `${what}: the label is off its line: ${box} ${JSON.stringify(line)}`,
          );
          for (const other of boxes)
            if (other !== b) assert(!rectsOverlap(b, other), `${what}: labels overlap: ${box}`);
          // No other cut-off line runs through the box (a line runs from the plot's bottom up to its own box).
          for (const l of g.lines) {
            const own = boxes.find((o) => o.ids.includes(l.id));
            if (b.ids.includes(l.id) || !own) continue;
            assert(
              !(b.left + 1 < l.at && l.at < b.right - 1 && b.bottom > own.bottom),
              `${what}: ${l.id} crosses ${box}`,
            );
          }
          // Not on a point (radius 2 + 1 px) nor on the line between two points.
          for (const [p, q] of segments) {
            const n = Math.max(1, Math.ceil(Math.hypot(q.x - p.x, q.y - p.y)));
            for (let k = 0; k <= n; k++) {
              const x = p.x + ((q.x - p.x) * k) / n;
              const y = p.y + ((q.y - p.y) * k) / n;
              assert(
                !(x > b.left - 3 && x < b.right + 3 && y > b.top - 3 && y < b.bottom + 3),
                `${what}: a label covers the curve at (${x.toFixed(1)}, ${y.toFixed(1)}): ${box}`,
              );
            }
          }
        }
      }
      await page
        .locator('section[data-chart="contributions"]')
        .screenshot({ path: path.join(RESULTS, 'chart-contributions-geometry.png') });
      await postReport(page, 'small', seq++);
    });

    await test('Pascanu chart of a gated layer (gru, lstm examples): a line at σ_max = 1 drawn at its pixel, labelled as a reference, and a visible explanation that agrees with the numbers', async () => {
      let seq = 480;
      for (const [file, cell] of [
        ['examples/gru-safetensors.rnn.json', 'gru'],
        ['examples/healthy-lstm.rnn.json', 'lstm'],
      ]) {
        const report = exampleReport(file);
        assert(report.model.cell === cell && report.layers.every((l) => l.gamma === null), `${file}: ${cell}, γ null`);
        await stageReport(page, 'gated', report);
        await postReport(page, 'gated', seq++, null, `file:///work/${file}`);
        const section = page.locator('section[data-chart="pascanu"]');
        await section.scrollIntoViewIfNeeded();
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
        assert(errors.length === 0, `${file}: page errors: ${errors.map((e) => e.message).join('; ')}`);
        const g = await page.evaluate(() => window.rnnGradientsTest.geometry('pascanu'));
        // Where 1 lies on the y axis, from two of its labelled ticks (a linear axis).
        const ticks = g.yTickLabels.filter((t) => t.label !== '');
        assert(ticks.length >= 2, `${file}: ticks ${JSON.stringify(g.yTickLabels)}`);
        const [a, b] = [ticks[0], ticks[ticks.length - 1]];
        const y1 = a.at + ((1 - a.value) * (b.at - a.at)) / (b.value - a.value);
        // The canvas row at that pixel: a dashed line across the plot (ink in most columns outside the bars).
        const row = await page.evaluate(
          ({ y, area, bars }) => {
            const canvas = document.querySelector('section[data-chart="pascanu"] .chart-box canvas');
            const d = canvas.getContext('2d').getImageData(0, Math.round(y) - 1, canvas.width, 3).data;
            let inked = 0;
            let columns = 0;
            for (let x = Math.ceil(area.left) + 1; x < Math.floor(area.right) - 1; x++) {
              if (bars.some((r) => x >= r.left - 1 && x <= r.right + 1)) continue;
              columns++;
              let any = false;
              for (let k = 0; k < 3; k++) if (d[(k * canvas.width + x) * 4 + 3] > 64) any = true;
              if (any) inked++;
            }
            return { inked, columns };
          },
          { y: y1, area: g.area, bars: g.bars },
        );
        assert(
          row.columns > 100 && row.inked / row.columns > 0.4,
          `${file}: no line at σ_max = 1 (y ${y1}): ${JSON.stringify(row)}`,
        );
        // Its label: drawn on the line, saying what it is.
        const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
        const line = charts.find((c) => c.id === 'pascanu').annotations.find((l) => l.value === 1);
        assert(
          line && /σ_max = 1/.test(line.label) && /reference/.test(line.label),
          `${file}: ${JSON.stringify(line)}`,
        );
        const box = g.labels.find((l) => l.ids.includes(line.id));
        assert(box && box.y <= y1 && y1 <= box.y + box.h, `${file}: label off its line: ${JSON.stringify(box)}`);
        const rect = { left: box.x, top: box.y, right: box.x + box.w, bottom: box.y + box.h };
        for (const bar of g.bars)
          assert(!rectsOverlap(rect, bar), `${file}: the label covers a bar: ${JSON.stringify(box)}`);
        // The explanation beside the chart: visible, true for gated cells, and agreeing with σ_max as printed.
        const note = section.locator('.notes .gated-note');
        assert(await note.isVisible(), `${file}: no visible explanation`);
        const text = await note.innerText();
        assert(
          /1\/γ bound is for rnn cells/.test(text) && new RegExp(`In a ${cell} cell`).test(text),
          `${file}: ${text}`,
        );
        assert(/depends on the gates/.test(text) && /Gates and units/.test(text), `${file}: ${text}`);
        const notes = await section.locator('.notes').innerText();
        const sigma = report.layers[0].sigma_max;
        const side = sigma > 1 ? 'above 1' : 'below 1';
        assert(notes.includes(`σ_max(W_hh) = ${panelNumber(sigma)}, ${side}`), `${file}: σ_max ${sigma}: ${notes}`);
        assert(
          !/must vanish|exploding gradients are possible/.test(notes),
          `${file}: a Pascanu verdict for a ${cell}: ${notes}`,
        );
        await section.screenshot({ path: path.join(RESULTS, `chart-pascanu-${cell}.png`) });
      }
      await postReport(page, 'small', seq++);
    });

    await test('Gates and units: an engine report of examples/lstm-forget-closed draws both gate charts with the report’s shares', async () => {
      const run = childProcess.spawnSync(
        process.execPath,
        [path.join(ROOT, 'dist', 'cli.js'), 'analyze', 'examples/lstm-forget-closed.rnn.json', '--json'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert(run.status === 0, `cli: ${run.stderr}`);
      const report = JSON.parse(run.stdout);
      await stageReport(page, 'gates', report);
      await postReport(page, 'gates', 41, null, 'file:///work/examples/lstm-forget-closed.rnn.json');
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
      const gates = charts.find((c) => c.id === 'gates');
      assert(gates, 'no gates chart');
      assert(
        JSON.stringify(gates.datasets.map((d) => d.label)) ===
          JSON.stringify(['saturated low (< 0.05; tanh gates < −0.95)', 'unsaturated', 'saturated high (> 0.95)']),
        `gates datasets: ${JSON.stringify(gates.datasets)}`,
      );
      assert(
        gates.datasets.every((d) => d.points === 4),
        'one bar per gate (input, forget, cell, output)',
      );
      assert(
        JSON.stringify(gates.labels) ===
          JSON.stringify(['layer 0 input', 'layer 0 forget', 'layer 0 cell', 'layer 0 output']),
        `labels ${JSON.stringify(gates.labels)}`,
      );
      const g = report.layers[0].gates;
      const names = ['input', 'forget', 'cell', 'output'];
      assert(
        JSON.stringify(gates.datasets[0].values) === JSON.stringify(names.map((n) => g[n].saturated_low)) &&
          JSON.stringify(gates.datasets[2].values) === JSON.stringify(names.map((n) => g[n].saturated_high)),
        `saturated shares drawn: ${JSON.stringify(gates.datasets)}`,
      );
      const grads = charts.find((c) => c.id === 'gateGrads');
      assert(
        grads && grads.datasets.length === 2 && grads.datasets.every((d) => d.points === 4),
        `gateGrads: ${JSON.stringify(grads)}`,
      );
      // One distribution chart for the layer: per gate a step line over the report's 20-bin histogram (as shares of
      // unit-steps), and the saturation cuts marked with each gate's saturated share.
      const dist = charts.find((c) => c.id === 'gates-layer-0');
      assert(dist && dist.type === 'line', `no distribution chart for layer 0: ${charts.map((c) => c.id).join(', ')}`);
      assert(
        JSON.stringify(dist.datasets.map((d) => d.label.split(' (')[0])) === JSON.stringify(names),
        `distribution datasets: ${JSON.stringify(dist.datasets.map((d) => d.label))}`,
      );
      const forgetSet = dist.datasets[1];
      assert(/forget \(mean 0\.0495\d*; saturated 57% low, 0% high\)/.test(forgetSet.label), forgetSet.label);
      const hist = g.forget.histogram;
      const total = hist.counts.reduce((a, b) => a + b, 0);
      assert(forgetSet.points === hist.counts.length + 1, `points ${forgetSet.points}`);
      assert(
        Math.abs(forgetSet.ends[0].y - hist.counts[0] / total) < 1e-12 && forgetSet.ends[0].x === hist.lo,
        `first step ${JSON.stringify(forgetSet.ends)}`,
      );
      assert(forgetSet.ends[1].x === hist.hi, `last edge ${JSON.stringify(forgetSet.ends)}`);
      const cuts = Object.fromEntries(dist.annotations.map((a) => [a.id, a]));
      assert(
        cuts['saturated-low'] && cuts['saturated-low'].value === 0.05 && /forget 57%/.test(cuts['saturated-low'].label),
        `low cut: ${JSON.stringify(dist.annotations)}`,
      );
      assert(cuts['saturated-low-tanh'] && cuts['saturated-low-tanh'].value === -0.95, 'tanh low cut');
      assert(cuts['saturated-high'] && cuts['saturated-high'].value === 0.95, 'high cut');
      const heading = await page.locator('section[data-chart="gates"] .gate-layer h3').allInnerTexts();
      assert(JSON.stringify(heading) === JSON.stringify(['Layer 0: gate activations']), `headings ${heading}`);
      const ink = await inkPerCanvas(page);
      assert(ink.gates > 2000, `gates canvas looks blank (${ink.gates} px)`);
      assert(ink['gates-layer-0'] > 2000, `layer 0 distribution canvas looks blank (${ink['gates-layer-0']} px)`);
      assert(ink.gateGrads > 2000, `gateGrads canvas looks blank (${ink.gateGrads} px)`);
      const notes = await page.locator('section[data-chart="gates"] .notes').innerText();
      assert(/layer 0 \(o ⊙ tanh\(c\)\): no dead units; 0% of unit-steps saturated\./.test(notes), `notes: ${notes}`);
      // The accessible table carries the same numbers.
      await page.locator('section[data-chart="gates"] button', { hasText: /table/i }).first().click();
      const tableText = await page.locator('section[data-chart="gates"] table').innerText();
      const forgetMean = report.layers[0].gates.forget.mean;
      assert(
        tableText.includes('forget') && tableText.includes(forgetMean.toPrecision(3).replace(/0+$/, '')),
        `table: ${tableText.slice(0, 400)}`,
      );
      await page.locator('section[data-chart="gates"] button', { hasText: /chart/i }).first().click();
    });

    await test("the dashed line is the regime rule's least-squares fit (an engine report of healthy-lstm)", async () => {
      // The engine's own report, through the built CLI: the line must be evidence.fit, not a line from lag 0.
      const run = childProcess.spawnSync(
        process.execPath,
        [path.join(ROOT, 'dist', 'cli.js'), 'analyze', 'examples/healthy-lstm.rnn.json', '--json'],
        { cwd: ROOT, encoding: 'utf8' },
      );
      assert(run.status === 0, `cli: ${run.stderr}`);
      const report = JSON.parse(run.stdout);
      const layer = report.layers[0];
      const fit = layer.evidence.fit;
      assert(fit && fit.to_lag > fit.from_lag, `fit: ${JSON.stringify(fit)}`);
      await stageReport(page, 'healthy', report);
      await postReport(page, 'healthy', 90);
      const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
      const line = charts.find((c) => c.id === 'lags').datasets.find((d) => /measured rate/.test(d.label));
      assert(line && line.ends, `no measured-rate line: ${JSON.stringify(charts.find((c) => c.id === 'lags'))}`);
      const [a, b] = line.ends;
      const at = (x) => fit.intercept + fit.slope * x;
      const close = (u, v) => Math.abs(u - v) < 1e-9;
      assert(
        a.x === fit.from_lag && b.x === fit.to_lag,
        `line from ${a.x} to ${b.x}, fit ${fit.from_lag}–${fit.to_lag}`,
      );
      assert(
        close(a.y, at(a.x)) && close(b.y, at(b.x)),
        `line ${JSON.stringify(line.ends)} vs fit ${JSON.stringify(fit)}`,
      );
      // A least-squares line has mean points on both sides (the old line from lag 0 lay above all of them).
      const used = layer.lags.filter((e) => e.lag >= fit.from_lag && e.lag <= fit.to_lag);
      const above = used.filter((e) => e.log10_mean > at(e.lag)).length;
      assert(above > 0 && above < used.length, `${above} of ${used.length} points above the line`);
      assert(!close(a.y, layer.lags[0].log10_mean), 'the line starts at the lag-0 mean, not at the intercept');
      await postReport(page, 'small', 91);
    });

    await test('user data from the report stays text: no <img>, no <b>, no alert', async () => {
      const title = await page.locator('h1.model-name').textContent();
      assert(title.includes('<img src=x onerror=alert(1)>'), `title: ${title}`);
      const counts = await page.evaluate(() => ({
        img: document.querySelectorAll('img').length,
        b: document.querySelectorAll('b').length,
        alerted: !!window.__alerted,
      }));
      assert(counts.img === 0 && counts.b === 0 && !counts.alerted && dialogs() === 0, JSON.stringify(counts));
      const facts = await page.locator('header .facts').innerText();
      assert(facts.includes(small.file) && small.file.includes('<b>'), `file fact: ${facts}`);
    });

    await test('the header counts the data as sequences × steps, as the lag axis does', async () => {
      const facts = await page.locator('header .facts').innerText();
      assert(small.sequences === 2 && small.steps === 24, `small report: ${small.sequences} × ${small.steps}`);
      assert(/data\s+2 sequences × 12 steps/.test(facts), `header facts: ${facts}`);
      assert(!/steps\s+24/.test(facts), `header still gives the total alone: ${facts}`);
    });

    await test("the header names the weights' source of a checkpoint analyzed directly (as the CLI's Source line)", async () => {
      // examples/checkpoint/tagger.pt through the built CLI, under a file name with markup in it.
      const tagger = engineReport('examples/checkpoint/tagger.pt');
      assert(tagger.model.source && tagger.model.source.format === 'pytorch', 'the report has no pytorch source');
      await stageReport(page, 'tagger', tagger);
      await postReport(page, 'tagger', 92);
      const facts = await page.locator('header .facts').innerText();
      const expected = `weights from <b>tagger.pt${tagger.model.source.module ? `, module ${tagger.model.source.module}` : ''}`;
      assert(facts.includes(expected), `header facts: ${facts} (expected "${expected}")`);
      assert((await page.locator('header .facts b').count()) === 0, 'the file name became markup');
      await postReport(page, 'small', 93);
      const back = await page.locator('header .facts').innerText();
      assert(!/weights from/.test(back), `an inline-weights report still names a file: ${back}`);
    });

    await test('the CSP blocks an injected inline script', async () => {
      await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.__pwned = true;';
        document.body.appendChild(s);
      });
      await page.waitForTimeout(50);
      const state = await page.evaluate(() => ({ pwned: window.__pwned === true, violations: window.__violations }));
      assert(!state.pwned, 'the inline script ran');
      assert(
        state.violations.some((v) => /script-src/.test(v.directive) && v.blocked === 'inline'),
        `no script-src violation: ${JSON.stringify(state.violations)}`,
      );
    });

    await test('actions post typed messages: reveal, copy, apply, export', async () => {
      await page.locator('button.finding').first().click();
      const reveal = (await posted(page, 'revealPath')).pop();
      assert(
        reveal && JSON.stringify(reveal.path) === JSON.stringify(small.findings[0].path),
        `revealPath: ${JSON.stringify(reveal)}`,
      );
      const norm = threshold(small.clipping.recommended.clip_norm);
      const value = threshold(small.clipping.recommended.clip_value);
      await page.getByRole('button', { name: 'Copy: PyTorch, clip by norm' }).click();
      await page.getByRole('button', { name: 'Copy: Keras optimizer, clip by value' }).click();
      const copies = (await posted(page, 'copyText')).map((m) => m.text);
      assert(
        copies.includes(`torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${norm})`),
        `copies: ${copies}`,
      );
      assert(copies.includes(`clipvalue=${value}`), `copies: ${copies}`);
      // The button says what changes: the new value and its effect, the file's value (100) and its effect.
      const clipped = small.clipping.batch_norms.filter((n) => n > norm).length;
      const effect =
        clipped === 0
          ? 'never clips'
          : clipped === small.clipping.batch_norms.length
            ? 'clips every batch'
            : `clips ${clipped} of ${small.clipping.batch_norms.length} batches`;
      await page.getByRole('button', { name: `Set clip_norm to ${norm}: ${effect} (now 100: never clips)` }).click();
      const apply = (await posted(page, 'applyClip')).pop();
      assert(apply && apply.key === 'clip_norm' && apply.value === norm, `applyClip: ${JSON.stringify(apply)}`);
      await page.locator('section[data-chart="lags"]').getByRole('button', { name: 'Save PNG' }).click();
      await page.getByRole('button', { name: 'Save lag table (CSV)' }).click();
      await page.getByRole('button', { name: 'Save report (JSON)' }).click();
      const exports = await posted(page, 'exportFile');
      const png = exports.find((m) => m.kind === 'png');
      const csv = exports.find((m) => m.kind === 'csv');
      const json = exports.find((m) => m.kind === 'json');
      assert(
        png && png.content.startsWith('data:image/png;base64,') && png.suggestedName.endsWith('-lags.png'),
        `png: ${png && png.suggestedName}`,
      );
      const lagRows = small.layers.reduce((n, l) => n + l.lags.length, 0);
      assert(
        csv &&
          csv.content.startsWith('layer,direction,lag,count,mean,min,max,contribution_mean,') &&
          csv.content.split('\r\n').length === lagRows + 2,
        'csv content',
      );
      assert(json && JSON.stringify(JSON.parse(json.content)) === JSON.stringify(small), 'json content');
    });

    await test('after the file changes, the apply button says the file holds the value', async () => {
      const norm = threshold(small.clipping.recommended.clip_norm);
      await postReport(page, 'small', 2, norm);
      const text = await page.locator('.recommendation').innerText();
      assert(text.includes(`✓ training.clip_norm is ${norm}`), `recommendation: ${text}`);
      const buttons = await page.locator('.recommendation button').allInnerTexts();
      assert(!buttons.some((b) => b.startsWith('Set clip_norm')), `buttons: ${buttons}`);
      await postReport(page, 'small', 3, 100);
    });

    await test('code lines wrap only between tokens, never inside an identifier', async () => {
      await page.setViewportSize({ width: 420, height: 900 });
      const lines = await page.evaluate(() =>
        Array.from(document.querySelectorAll('code.snippet')).map((code) => {
          // Each text node is one unbreakable token run; a wrap inside one shows as two line boxes.
          const broken = [];
          for (const node of code.childNodes) {
            if (node.nodeType !== Node.TEXT_NODE || !node.textContent.trim()) continue;
            const range = document.createRange();
            range.selectNodeContents(node);
            const tops = new Set(Array.from(range.getClientRects()).map((r) => Math.round(r.top)));
            if (tops.size > 1) broken.push(node.textContent);
          }
          const box = code.getBoundingClientRect();
          return { text: code.textContent, broken, lines: Math.round(box.height), right: box.right };
        }),
      );
      await page.setViewportSize({ width: 1000, height: 900 });
      assert(lines.length === 4, `code lines: ${JSON.stringify(lines)}`);
      for (const l of lines) assert(l.broken.length === 0, `broke inside ${JSON.stringify(l.broken)} of ${l.text}`);
      assert(
        lines.every((l) => l.right <= 420),
        `a code line overflows the panel: ${JSON.stringify(lines)}`,
      );
    });

    await test('"Show as table" shows the same numbers, and every control is keyboard reachable with a visible focus ring', async () => {
      const toggle = page.locator('section[data-chart="clipping"] button[aria-controls="section-clipping-table"]');
      await toggle.focus();
      await page.keyboard.press('Enter');
      const tableText = await page.locator('#section-clipping-table').innerText();
      const rows = small.clipping.batch_norms.map((n, i) => `${i + 1}\t${panelNumber(n)}`);
      for (const row of rows) assert(tableText.includes(row), `table row "${row}" missing: ${tableText}`);
      assert((await toggle.getAttribute('aria-pressed')) === 'true', 'aria-pressed');
      await page.keyboard.press('Enter');
      // Tab through the page: every button must take focus and show an outline.
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      const focusable = await page.evaluate(
        () => document.querySelectorAll('button:not([hidden]), summary, select:not([hidden])').length,
      );
      const seen = new Set();
      for (let i = 0; i < focusable + 12; i++) {
        await page.keyboard.press('Tab');
        const info = await page.evaluate(() => {
          const a = document.activeElement;
          if (!a || a === document.body) return null;
          const s = getComputedStyle(a);
          const index = Array.from(document.querySelectorAll('button, summary, select, [tabindex]')).indexOf(a);
          return {
            key: `${index}:${a.tagName}:${(a.textContent || '').slice(0, 30)}`,
            outline: s.outlineStyle,
            width: s.outlineWidth,
          };
        });
        if (!info) continue;
        assert(info.outline !== 'none' && info.width !== '0px', `no focus ring on ${info.key}`);
        seen.add(info.key);
      }
      const buttons = await page.evaluate(
        () =>
          Array.from(document.querySelectorAll('button, summary, select')).filter((b) => b.checkVisibility()).length,
      );
      assert(seen.size >= buttons, `reached ${seen.size} of ${buttons} controls by Tab: ${[...seen].join(' | ')}`);
      await page.keyboard.press('Escape');
    });

    await test('state is saved with vscode.setState (report, toggles) and a reloaded page restores from it', async () => {
      await page.waitForTimeout(120);
      const state = await page.evaluate(() => window.__state);
      assert(
        state &&
          state.documentUri === 'file:///work/examples/tanh.rnn.json' &&
          state.report &&
          state.report.layers.length === 1,
        'state',
      );
      const restored = await openPage(browser, origin, 'dark', state);
      await restored.page.waitForFunction(() =>
        window.__posted.some((p) => p.message.type === 'rendered' && p.message.seq === 0),
      );
      const title = await restored.page.locator('h1.model-name').textContent();
      assert(title.includes('tanh demo'), 'restored title');
      assert(restored.errors.length === 0, `errors: ${restored.errors.join('; ')}`);
      await restored.page.close();
    });

    await test('a bidirectional report labels each direction: "Layer 0 (reverse)" in the charts, cards, notes and tables', async () => {
      const bi = JSON.parse(JSON.stringify(small));
      bi.model.bidirectional = true;
      bi.layers = [
        { ...small.layers[0], direction: 'forward' },
        { ...small.layers[0], direction: 'reverse', sigma_max: small.layers[0].sigma_max / 2 },
      ];
      await stageReport(page, 'bidirectional', bi);
      await postReport(page, 'bidirectional', 15);
      const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
      const labelsOf = (id) => charts.find((c) => c.id === id).datasets.map((d) => d.label);
      const lagLabels = labelsOf('lags');
      for (const expected of ['Layer 0 mean', 'Layer 0 (reverse) mean', 'Layer 0 (reverse) min–max'])
        assert(lagLabels.includes(expected), `lag chart: ${lagLabels.join(', ')}`);
      const contributionLabels = labelsOf('contributions');
      assert(
        contributionLabels.includes('Layer 0 contribution') &&
          contributionLabels.includes('Layer 0 (reverse) contribution'),
        `contribution chart: ${contributionLabels.join(', ')}`,
      );
      const cutoffs = charts.find((c) => c.id === 'contributions').annotations.map((a) => a.label);
      assert(
        cutoffs.some((l) => /L0 rev /.test(l)),
        `cut-off labels: ${cutoffs.join(' | ')}`,
      );
      const cards = await page
        .locator('article.card')
        .evaluateAll((els) => els.map((e) => e.getAttribute('aria-label')));
      assert(
        cards.length === 2 && /^Layer 0: /.test(cards[0]) && /^Layer 0 \(reverse\): /.test(cards[1]),
        `cards: ${cards.join(' | ')}`,
      );
      const headings = await page.locator('article.card h3').allInnerTexts();
      assert(/Layer 0 \(reverse\)/.test(headings[1] ?? ''), `card headings: ${headings.join(' | ')}`);
      const pascanuNotes = await page.locator('section[data-chart="pascanu"] .notes').innerText();
      assert(/Layer 0 \(reverse\): /.test(pascanuNotes), `pascanu notes: ${pascanuNotes}`);
      const toggle = page.locator('section[data-chart="lags"] button[aria-controls="section-lags-table"]');
      await toggle.click();
      const lagTable = await page.locator('#section-lags-table').innerText();
      await toggle.click();
      assert(
        /^0 \(reverse\)\s+0\s/m.test(lagTable) && /^0\s+0\s/m.test(lagTable),
        `lag table: ${lagTable.slice(0, 400)}`,
      );
      await page.getByRole('button', { name: 'Save lag table (CSV)' }).click();
      const csv = (await posted(page, 'exportFile')).filter((m) => m.kind === 'csv').pop();
      assert(csv && /\r\n0,reverse,0,/.test(csv.content), 'csv has the reverse rows');
      await postReport(page, 'small', 16);
    });

    await test('a stopped run: the last complete report comes back under a "cancelled" line, or the partial report goes; Re-run asks the host', async () => {
      const send = (message) => page.evaluate((m) => window.postMessage(m, '*'), message);
      const partial = { ...small, partial: true, max_lag: 4 };
      const doc = 'file:///work/examples/tanh.rnn.json';
      await send({ type: 'report', documentUri: doc, report: partial, currentClipNorm: 100, seq: 50, partial: true });
      await page.waitForFunction(() =>
        window.__posted.some((p) => p.message.type === 'rendered' && p.message.seq === 50),
      );
      assert(/partial/.test(await page.locator('header .badge').innerText()), 'no partial badge');
      // Cancel before any complete report of this document: the partial report goes.
      await send({ type: 'stopped', message: 'The analysis was cancelled.', previous: false });
      await page.locator('.waiting').getByRole('button', { name: 'Re-run the analysis' }).waitFor({ timeout: 5000 });
      const waiting = await page.locator('.waiting').innerText();
      assert(/cancelled.*no complete report/i.test(waiting), `waiting line: ${waiting}`);
      assert(!(await page.locator('header').isVisible()), 'the partial report is still shown');
      await page.locator('.waiting').getByRole('button', { name: 'Re-run the analysis' }).click();
      assert((await posted(page, 'rerun')).length === 1, 'Re-run posted nothing');
      // A complete report, a partial one, then the host re-sends the complete one and says the run stopped.
      await postReport(page, 'small', 51);
      await send({ type: 'report', documentUri: doc, report: partial, currentClipNorm: 100, seq: 52, partial: true });
      await postReport(page, 'small', 53);
      await send({ type: 'stopped', message: 'The analysis was cancelled.', previous: true });
      await page.locator('.run-status').waitFor({ state: 'visible', timeout: 5000 });
      const status = await page.locator('.run-status').innerText();
      assert(/cancelled.*last complete report/i.test(status), `status line: ${status}`);
      assert((await page.locator('header .badge').count()) === 0, 'the partial badge stayed');
      await page.locator('.run-status').getByRole('button', { name: 'Re-run the analysis' }).click();
      assert((await posted(page, 'rerun')).length === 2, 'Re-run posted nothing');
      await postReport(page, 'small', 54);
      assert(!(await page.locator('.run-status').isVisible()), 'the status line outlived the next report');
    });

    // Timing on a shared machine is noisy: each figure is the median of TRIALS posts, and every post is printed.
    await test(`a 10,000-lag report renders in under ${RENDER_LIMIT_MS} ms (target ${RENDER_BUDGET_MS} ms; report posted → rendered; live update of an open panel)`, async () => {
      await stageReport(page, 'large', large);
      const times = await timeRenders(page, 'large', 20, TRIALS);
      const inside = (await posted(page, 'rendered')).filter((m) => m.seq >= 20).map((m) => m.ms);
      console.log(
        `      10,000 lags × 2 layers: ${times.map((t) => t.toFixed(0)).join(', ')} ms to rendered, median ${median(times).toFixed(0)} ms (target ${RENDER_BUDGET_MS} ms) (inside render ${inside.map((t) => t.toFixed(0)).join(', ')} ms)`,
      );
      assert(median(times) < RENDER_LIMIT_MS, `median ${median(times).toFixed(1)} ms`);
      const charts = await page.evaluate(() => window.rnnGradientsTest.charts());
      const lags = charts.find((c) => c.id === 'lags');
      assert(
        lags.datasets.every((d) => d.points <= 1000),
        `decimation: ${JSON.stringify(lags.datasets)}`,
      );
      const ink = await inkPerCanvas(page);
      for (const id of ['lags', 'contributions', 'clipping', 'pascanu'])
        assert(ink[id] > 2000, `${id} canvas looks blank`);
      const labels = lags.datasets.map((d) => d.label).join(', ');
      assert(/Layer 1 mean/.test(labels) && /Layer 1 min–max/.test(labels), labels);
    });

    await test(`a 10,000-lag report as the first report of a fresh page also renders in under ${RENDER_LIMIT_MS} ms (target ${RENDER_BUDGET_MS} ms)`, async () => {
      const times = [];
      const inside = [];
      for (let k = 0; k < TRIALS; k++) {
        const fresh = await openPage(browser, origin, 'dark');
        await stageReport(fresh.page, 'large', large);
        times.push(await postReport(fresh.page, 'large', 1, 2.5, 'file:///work/models/long.rnn.json'));
        inside.push((await posted(fresh.page, 'rendered')).find((m) => m.seq === 1).ms);
        const ink = await inkPerCanvas(fresh.page);
        await fresh.page.close();
        for (const id of ['lags', 'contributions', 'clipping', 'pascanu'])
          assert(ink[id] > 2000, `${id} canvas looks blank`);
      }
      console.log(
        `      fresh pages: ${times.map((t) => t.toFixed(0)).join(', ')} ms to rendered, median ${median(times).toFixed(0)} ms (target ${RENDER_BUDGET_MS} ms) (inside render ${inside.map((t) => t.toFixed(0)).join(', ')} ms)`,
      );
      assert(median(times) < RENDER_LIMIT_MS, `median ${median(times).toFixed(1)} ms`);
    });

    await test('opening the heatmap asks the host for it, and a report with heatmaps draws it', async () => {
      await postReport(page, 'small', 30);
      const before = (await posted(page, 'requestHeatmap')).length;
      await page.locator('details.heatmap > summary').click();
      await page.waitForFunction(
        (n) => window.__posted.filter((p) => p.message.type === 'requestHeatmap').length > n,
        before,
      );
      const status = await page.locator('section[data-chart="heatmap"] .status').textContent();
      assert(/Computing/.test(status), `status: ${status}`);
      await postReport(page, 'large', 31, 2.5, 'file:///work/examples/tanh.rnn.json');
      const rendered = (await posted(page, 'rendered')).find((m) => m.seq === 31);
      assert(rendered.charts === 7, `charts: ${rendered.charts}`);
      const ink = await inkPerCanvas(page);
      assert(ink.heatmap > 20000, `heatmap ink ${ink.heatmap}`);
      assert((await posted(page, 'requestHeatmap')).length === before + 1, 'requested more than once');
    });

    await test('heatmap colour bar: log scale with labelled ticks at powers of ten, at their places for the report’s range (each layer)', async () => {
      await stageReport(page, 'large', large);
      await postReport(page, 'large', 35, 2.5, 'file:///work/examples/tanh.rnn.json');
      if (!(await page.locator('details.heatmap').evaluate((d) => d.open)))
        await page.locator('details.heatmap > summary').click();
      await page.locator('section[data-chart="heatmap"] canvas.colour-legend').waitFor({ state: 'visible' });
      const section = page.locator('section[data-chart="heatmap"]');
      for (let index = 0; index < large.heatmaps.length; index++) {
        if (large.heatmaps.length > 1) await section.locator('select').selectOption(String(index));
        // The report's range, computed here from its cells.
        const cells = large.heatmaps[index].log10_norm.filter((v) => v !== null && Number.isFinite(v));
        const min = Math.min(...cells);
        const max = Math.max(...cells);
        const bar = await page.evaluate(() => {
          const canvas = document.querySelector('section[data-chart="heatmap"] canvas.colour-legend');
          const r = canvas.getBoundingClientRect();
          const inner = { left: r.left + canvas.clientLeft, width: canvas.clientWidth };
          const ticks = Array.from(document.querySelectorAll('section[data-chart="heatmap"] .colour-ticks > *'))
            .filter((t) => t.checkVisibility())
            .map((t) => {
              const b = t.getBoundingClientRect();
              return { text: t.textContent, centre: b.left + b.width / 2, left: b.left, right: b.right };
            });
          return { inner, ticks, visible: canvas.checkVisibility() };
        });
        const where = `layer ${index} [${min}, ${max}]: ${JSON.stringify(bar.ticks.map((t) => t.text))}`;
        assert(bar.visible && bar.ticks.length >= 3, `${where}: fewer than 3 ticks`);
        const values = bar.ticks.map((t) => log10OfLabel(t.text));
        for (const [k, t] of bar.ticks.entries()) {
          const v = values[k];
          assert(
            Number.isFinite(v) && Number.isInteger(Math.round(v * 1e9) / 1e9),
            `${where}: "${t.text}" is not a power of ten`,
          );
          assert(v >= min - 1e-9 && v <= max + 1e-9, `${where}: ${t.text} outside the report's range`);
          // At its place on a log10 bar from min to max.
          const x = bar.inner.left + ((v - min) / (max - min)) * bar.inner.width;
          assert(Math.abs(t.centre - x) <= 2, `${where}: ${t.text} at ${t.centre}, expected ${x}`);
          if (k > 0) assert(t.left >= bar.ticks[k - 1].right, `${where}: labels overlap`);
        }
        // Evenly spaced powers of ten covering the range: no gap wider than a step at either end.
        const step = values[1] - values[0];
        assert(
          step > 0 && values.every((v, k) => k === 0 || Math.abs(v - values[k - 1] - step) < 1e-9),
          `${where}: uneven`,
        );
        assert(values[0] - min < step && max - values[values.length - 1] < step, `${where}: ends not covered`);
      }
      const title = await section.locator('.colour-legend-row').innerText();
      assert(/log scale/.test(title), `colour bar title: ${title}`);
      await section.locator('.colour-legend-row').screenshot({ path: path.join(RESULTS, 'heatmap-colour-bar.png') });
    });

    await test('screenshots in dark and light themes; a theme change recolours the charts', async () => {
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(RESULTS, 'panel-dark.png'), fullPage: true });
      const before = await canvasDigest(page, 'pascanu');
      await setTheme(page, 'light');
      const after = await canvasDigest(page, 'pascanu');
      assert(before !== after, 'the pascanu chart did not change with the theme');
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      assert(bg === 'rgb(255, 255, 255)', `light background: ${bg}`);
      await page.screenshot({ path: path.join(RESULTS, 'panel-light.png'), fullPage: true });
      for (const id of ['lags', 'contributions', 'clipping', 'pascanu', 'heatmap']) {
        await page
          .locator(`section[data-chart="${id}"]`)
          .screenshot({ path: path.join(RESULTS, `chart-${id}-light.png`) });
      }
      await postReport(page, 'small', 40);
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      await page.screenshot({ path: path.join(RESULTS, 'panel-small-light.png'), fullPage: true });
    });

    await test('no page errors', async () => {
      assert(errors.length === 0, errors.map((e) => e.message).join('; '));
    });
    await page.close();
    await timelineTests(browser, origin);
  } finally {
    await browser.close();
    server.close();
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error) => {
  console.error(error);
  console.log(`${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exitCode = 1;
});
