// One way to start a workbench for the UI tests and tools: a workspace folder (a copy of a folder plus extra files),
// user and folder settings, code-server on a fresh user-data dir (the extension installed from a .vsix, or loaded
// from a checkout as a development extension), and a Chromium page on the workbench, once it is drawn.
// Used by the e2e test (its main workbench and the out-of-memory and Restricted Mode ones) and tools/screenshots.js.
'use strict';

const fs = require('fs');
const path = require('path');
const harness = require('./harness');

/** Writes `value` as pretty JSON into `file`, creating its folder. */
function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Starts a workbench. Options:
 * - `dir` (required): the run's folder; code-server's config goes there, and by default the user data (`dir/data`),
 *   the extensions (`dir/extensions`) and the workspace (`dir/workspace`).
 * - `copyFrom` (required): the folder whose copy is the workspace; `workspaceName` its folder's name under `dir`.
 * - `files`: { relative path: text } written into the workspace; `copies`: { relative path: source file } copied there.
 * - `dataDir`, `extDir`: other user-data or extensions folders (e.g. one extensions folder for several workbenches).
 * - `vsix`: a packaged extension to install into `extDir` first.
 * - `developmentPath`: a checkout loaded as a development extension (instead of an installed one).
 * - `userSettings`, `folderSettings`: written as the user's settings.json and the workspace's .vscode/settings.json.
 * - `env`, `workspaceTrust`: for code-server (see harness.startCodeServer).
 * - `viewport`, `deviceScaleFactor`: of the page; `waitFor`: 'explorer' (default: until the Explorer lists a file)
 *   or 'workbench' (until the workbench is drawn).
 * Returns { paths, server, browser, page, dataDir, extDir, workspace, stop } (stop: closes the browser, then the server).
 */
async function startWorkbench(options) {
  const {
    dir,
    copyFrom,
    workspaceName = 'workspace',
    files = {},
    copies = {},
    vsix,
    developmentPath,
    userSettings,
    folderSettings,
    env = {},
    workspaceTrust = false,
    viewport = { width: 1400, height: 900 },
    deviceScaleFactor,
    waitFor = 'explorer',
  } = options;
  const paths = await harness.ensureHarness();
  fs.mkdirSync(dir, { recursive: true });
  const dataDir = options.dataDir || path.join(dir, 'data');
  const extDir = options.extDir || path.join(dir, 'extensions');
  fs.mkdirSync(extDir, { recursive: true });
  const workspace = harness.copyFolder(copyFrom, path.join(dir, workspaceName));
  for (const [name, source] of Object.entries(copies)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.copyFileSync(source, path.join(workspace, name));
  }
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(workspace, name)), { recursive: true });
    fs.writeFileSync(path.join(workspace, name), text);
  }
  if (userSettings) writeJson(path.join(dataDir, 'User', 'settings.json'), userSettings);
  if (folderSettings) writeJson(path.join(workspace, '.vscode', 'settings.json'), folderSettings);
  if (vsix) harness.installVsix(paths, vsix, { dataDir, extDir });

  const workbench = { paths, server: undefined, browser: undefined, page: undefined, dataDir, extDir, workspace };
  workbench.stop = async () => {
    await harness.closeBrowser(workbench.browser);
    workbench.browser = undefined;
    if (workbench.server) await workbench.server.stop();
    workbench.server = undefined;
  };
  try {
    workbench.server = await harness.startCodeServer(paths, { tmpDir: dir, dataDir, extDir, env, workspaceTrust });
    workbench.browser = await harness.launchChromium(paths);
    workbench.page = await workbench.browser.newPage({
      viewport,
      ...(deviceScaleFactor !== undefined ? { deviceScaleFactor } : {}),
    });
    const payload = developmentPath
      ? [
          ['extensionDevelopmentPath', harness.remoteUri(workbench.server.port, developmentPath)],
          ['skipWelcome', 'true'],
        ]
      : undefined;
    await workbench.page.goto(harness.workbenchUrl(workbench.server, workspace, payload), {
      waitUntil: 'domcontentloaded',
      timeout: 60000,
    });
    await workbench.page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 90000 });
    if (waitFor === 'explorer')
      await workbench.page
        .locator('.explorer-folders-view .monaco-list-row')
        .first()
        .waitFor({ state: 'visible', timeout: 90000 });
  } catch (error) {
    // The caller gets no workbench to stop: leave no browser or server behind, but keep the page for a screenshot.
    error.workbench = workbench;
    throw error;
  }
  return workbench;
}

module.exports = { startWorkbench };
