#!/usr/bin/env node
// Takes the README's screenshots in the real VS Code workbench (code-server + Chromium through the offline test
// harness, the extension loaded from this checkout as a development extension, a copy of examples/ open):
//
//   media/screenshots/diagnostics-problems.png  exploding-tanh.rnn.json: the warning squiggle and the Problems panel
//   media/screenshots/hover-weight-hh.png       the hover on "weight_hh_l0": σ_max, Pascanu's condition, the regime
//   media/screenshots/report-panel-dark.png     the report panel beside the model file, Dark Modern theme
//   media/screenshots/report-panel-light.png    the same in the Light Modern theme
//
// Usage: npm run build && node tools/screenshots.js [--out DIR]   (DIR defaults to media/screenshots)
// The harness installs itself into .harness/ on first use (docs/testing.md). The PNGs are not packaged:
// .vscodeignore lets only media/report.svg into the .vsix.
'use strict';

const fs = require('fs');
const path = require('path');
const harness = require('../test/harness/harness');
const { startWorkbench } = require('../test/harness/workbench');

const repoRoot = harness.repoRoot;
const model = 'exploding-tanh.rnn.json';
const viewport = { width: 1280, height: 760 };
/** A PNG above this size makes the README heavy; the script warns. */
const maxBytes = 300 * 1024;

/** User settings: a quiet workbench (no minimap, tips, chat or welcome page) in the given colour theme. */
function userSettings(theme) {
  return {
    'workbench.colorTheme': theme,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.layoutControl.enabled': false,
    'window.commandCenter': false,
    'chat.disableAIFeatures': true,
    'chat.commandCenter.enabled': false,
    'editor.minimap.enabled': false,
    'editor.fontSize': 13,
    'editor.hover.delay': 100,
    'editor.hover.above': false,
    'extensions.ignoreRecommendations': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'git.enabled': false,
  };
}

function parseArgs(argv) {
  const out = { dir: path.join(repoRoot, 'media', 'screenshots') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out.dir = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${argv[i]} (usage: node tools/screenshots.js [--out DIR])`);
  }
  return out;
}

/** Polls `check` (async, returns a truthy value when done) until it succeeds or `timeoutMs` passes. */
async function until(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await harness.sleep(250);
  }
}

/** Runs a command from the F1 palette: the row whose label is exactly `label` (`opensPick`: it shows a pick of its own). */
async function runCommand(page, label, opensPick = false) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 30000 });
  await page.keyboard.type(label);
  const exact = new RegExp(`^${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  const row = page
    .locator('.quick-input-list .monaco-list-row')
    .filter({ has: page.locator('.label-name', { hasText: exact }) })
    .first();
  await row.waitFor({ state: 'visible', timeout: 30000 });
  await row.click();
  if (!opensPick) await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 30000 });
}

/** Scrolls the report webview so its first chart's section is at the top (the summary cards are above it). */
async function scrollReportToCharts(page) {
  for (const frame of page.frames()) {
    if (!frame.url().includes('webview')) continue;
    const done = await frame
      .evaluate(() => {
        const canvas = document.querySelector('canvas');
        if (!canvas) return false;
        const section = canvas.closest('section, details') || canvas;
        section.scrollIntoView({ block: 'start' });
        return true;
      })
      .catch(() => false);
    if (done) return true;
  }
  return false;
}

/** Whether every visible canvas of the report webview has painted pixels (and there is at least one). */
async function reportPainted(page) {
  for (const frame of page.frames()) {
    if (!frame.url().includes('webview')) continue;
    const state = await frame
      .evaluate(() => {
        const canvases = Array.from(document.querySelectorAll('canvas')).filter((canvas) => {
          const box = canvas.getBoundingClientRect();
          const shown =
            typeof canvas.checkVisibility === 'function' ? canvas.checkVisibility({ visibilityProperty: true }) : true;
          return shown && box.width > 0 && box.height > 0;
        });
        if (!canvases.length || document.querySelector('.awaiting')) return null; // before the first report
        const painted = canvases.every((canvas) => {
          const data = canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data;
          if (!data) return false;
          for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) return true;
          return false;
        });
        return painted ? { canvases: canvases.length, light: document.body.classList.contains('vscode-light') } : null;
      })
      .catch(() => null);
    if (state) return state;
  }
  if (process.env.SCREENSHOTS_DEBUG) {
    for (const frame of page.frames()) {
      const info = await frame
        .evaluate(() => ({
          canvases: document.querySelectorAll('canvas').length,
          awaiting: Boolean(document.querySelector('.awaiting')),
          light: document.body.className,
        }))
        .catch((e) => String(e));
      harness.note(`frame ${frame.url().slice(0, 100)}: ${JSON.stringify(info)}`);
    }
  }
  return null;
}

/** How far the hover's content overflows its box (px; ≤ 0: all of it shows) and how far it is scrolled. */
function hoverOverflow(hover) {
  return hover.evaluate((node) => {
    const content = node.querySelector('.monaco-hover-content') || node;
    const view = content.parentElement || node;
    return { overflow: content.scrollHeight - view.clientHeight, scrolled: view.scrollTop || content.scrollTop || 0 };
  });
}

/** Drags the hover's bottom edge (the resizable hover's south sash) down by `dy` px. */
async function dragHoverBottom(page, hover, dy) {
  const box = await hover.boundingBox();
  const sashes = page.locator('.monaco-resizable-hover .monaco-sash.horizontal:not(.disabled)');
  let south = null;
  for (const sash of await sashes.all()) {
    const b = await sash.boundingBox();
    if (b && box && Math.abs(b.y + b.height / 2 - (box.y + box.height)) < 8) south = b;
  }
  if (!south) throw new Error('the hover has no bottom edge to drag');
  const x = south.x + south.width / 2;
  const y = south.y + south.height / 2;
  await page.mouse.move(x, y - 20, { steps: 2 });
  await page.mouse.move(x, y, { steps: 2 });
  await page.mouse.down();
  await page.mouse.move(x, y + dy, { steps: 8 });
  await page.mouse.up();
  // Rest inside the hover (it stays open) away from its edges and its scroll bar.
  await page.mouse.move(box.x + box.width / 2, box.y + 20, { steps: 4 });
  await harness.sleep(300);
}

/**
 * Makes the hover tall enough for all its content by dragging its bottom edge (the resizable hover's south sash)
 * down; fails when it still overflows, rather than take a shot with a cut line.
 */
async function fitHover(page, hover) {
  for (let attempt = 0; attempt < 4; attempt++) {
    const { overflow, scrolled } = await hoverOverflow(hover);
    if (overflow <= 0 && scrolled === 0) break;
    await dragHoverBottom(page, hover, Math.max(overflow, 0) + 12);
  }
  const { overflow, scrolled } = await hoverOverflow(hover);
  if (overflow > 0 || scrolled !== 0)
    throw new Error(`the hover still hides ${overflow} px of its content (scrolled ${scrolled} px) after resizing it`);
}

async function save(page, dir, name) {
  const file = path.join(dir, name);
  await page.screenshot({ path: file });
  const size = fs.statSync(file).size;
  harness.note(
    `${path.relative(repoRoot, file)}: ${(size / 1024).toFixed(0)} KB${size > maxBytes ? ' (above 300 KB!)' : ''}`,
  );
  return file;
}

async function main() {
  const { dir } = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'extension.js')))
    throw new Error('dist/extension.js is missing: run `npm run build` first');
  const tmpDir = harness.makeTempDir('screenshots');
  fs.mkdirSync(dir, { recursive: true });

  let workbench;
  const cleanup = async () => {
    if (workbench) await workbench.stop();
    workbench = undefined;
    await harness.killAllDescendants();
  };
  harness.installCleanupHandlers(cleanup);
  try {
    // The extension from this checkout (a development extension), a copy of examples/, the dark theme.
    try {
      workbench = await startWorkbench({
        dir: tmpDir,
        copyFrom: path.join(repoRoot, 'examples'),
        workspaceName: 'examples',
        developmentPath: repoRoot,
        userSettings: userSettings('Default Dark Modern'),
        viewport,
        deviceScaleFactor: 1,
        waitFor: 'workbench',
      });
    } catch (error) {
      workbench = error.workbench;
      throw error;
    }
    const page = workbench.page;

    // (a) The model from the Explorer, its warning squiggle, and the Problems panel.
    const row = page.locator(`.explorer-folders-view .monaco-list-row[aria-label*="${model}"]`).first();
    await row.waitFor({ state: 'visible', timeout: 90000 });
    await row.click();
    await page
      .locator(`.tabs-container .tab[aria-label*="${model}"]`)
      .first()
      .waitFor({ state: 'visible', timeout: 30000 });
    await page
      .locator('.editor-instance .monaco-editor .squiggly-warning')
      .first()
      .waitFor({ state: 'attached', timeout: 60000 });
    await page
      .locator('.editor-instance .monaco-editor')
      .first()
      .click({ position: { x: 400, y: 10 } });
    await page.keyboard.press('Control+Shift+M');
    await until('our problems in the Problems panel', async () => {
      const sources = await page.locator('.markers-panel .monaco-list-row .marker-source').allInnerTexts();
      return sources.filter((s) => s.includes('rnn-gradients')).length >= 2;
    });
    await page.mouse.move(viewport.width - 5, viewport.height / 2);
    await harness.sleep(800);
    await save(page, dir, 'diagnostics-problems.png');

    // (b) The hover on "weight_hh_l0".
    await page.keyboard.press('Control+J'); // hide the panel: more of the file and room for the hover
    const key = page.locator('.editor-instance .monaco-editor .view-line span', { hasText: '"weight_hh_l0"' }).last();
    await key.waitFor({ state: 'visible', timeout: 30000 });
    await until('the hover with σ_max and the regime', async () => {
      await page.mouse.move(10, 10);
      await key.hover();
      const hover = page.locator('.monaco-hover:visible').first();
      await hover.waitFor({ state: 'visible', timeout: 3000 });
      const text = await hover.innerText();
      return /σ_max/.test(text) && /Regime/.test(text);
    });
    // The hover opens at most 250 px tall and scrolls (the diagnostic's message, our table, the key's description):
    // drag its bottom edge down, as a person would, until the whole of it shows from its first line, unscrolled.
    const hover = page.locator('.monaco-hover:visible').first();
    await fitHover(page, hover);
    await harness.sleep(700);
    await save(page, dir, 'hover-weight-hh.png');

    // (c) The report panel beside the model file (dark).
    await page.mouse.move(viewport.width - 5, viewport.height - 5);
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+B'); // hide the side bar: room for the editor and the panel
    await runCommand(page, 'RNN Gradients: Analyze RNN gradients');
    await until('the report panel drawn in the dark theme', async () => {
      const state = await reportPainted(page);
      return state && !state.light;
    });
    await scrollReportToCharts(page);
    await page.mouse.move(viewport.width / 2, viewport.height - 3);
    await harness.sleep(1500);
    await save(page, dir, 'report-panel-dark.png');

    // (d) The same in the light theme, picked as a person would (the charts follow the workbench's theme).
    await runCommand(page, 'Preferences: Color Theme', true);
    await page
      .locator('.quick-input-list .monaco-list-row[aria-label*="Dark Modern"]')
      .first()
      .waitFor({ state: 'visible', timeout: 30000 });
    await page.keyboard.type('Light Modern');
    await page
      .locator('.quick-input-list .monaco-list-row[aria-label*="Light Modern"]')
      .first()
      .waitFor({ state: 'visible', timeout: 30000 });
    await page.keyboard.press('Enter');
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 30000 });
    await until(
      'the light theme',
      () =>
        page
          .locator('.monaco-workbench.vs')
          .count()
          .then((n) => n > 0),
      30000,
    );
    await until('the report panel redrawn in the light theme', async () => {
      const state = await reportPainted(page);
      return state && state.light;
    });
    await scrollReportToCharts(page);
    await harness.sleep(1500);
    await save(page, dir, 'report-panel-light.png');
  } catch (error) {
    const browser = workbench && workbench.browser;
    const pages = browser ? browser.contexts().flatMap((context) => context.pages()) : [];
    if (pages[0]) {
      const file = path.join(repoRoot, 'test-results', 'screenshots-failed.png');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      await pages[0].screenshot({ path: file }).catch(() => undefined);
      harness.note(`the page at the failure: ${path.relative(repoRoot, file)}`);
    }
    throw error;
  } finally {
    await cleanup();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(
      `[screenshots] ${error instanceof harness.HarnessError ? error.message : (error && error.stack) || error}\n`,
    );
    process.exit(1);
  },
);
