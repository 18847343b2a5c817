// Shared helpers of the extension-host tests: fixtures, the extension's API, our diagnostics, closing editors,
// waiting.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { RnnGradientsApi } from '../../src/extension/api';

export const extensionId = 'rnn-gradients.rnn-gradients';
export const repoRoot = path.resolve(__dirname, '..', '..', '..');

/** A file of test/fixtures/<folder>: the copy inside the opened workspace when there is one. */
export function fixtureIn(folder: string, name: string): vscode.Uri {
  for (const workspaceFolder of vscode.workspace.workspaceFolders ?? []) {
    for (const candidate of [path.join(folder, name), name]) {
      const file = path.join(workspaceFolder.uri.fsPath, candidate);
      if (fs.existsSync(file)) return vscode.Uri.file(file);
    }
  }
  return vscode.Uri.file(path.join(repoRoot, 'test', 'fixtures', folder, name));
}

/** A file of test/fixtures/workspace: the copy inside the opened workspace when there is one. */
export function fixture(name: string): vscode.Uri {
  return fixtureIn('workspace', name);
}

/** The extension's API (activating it if needed). */
export async function api(): Promise<RnnGradientsApi> {
  const extension = vscode.extensions.getExtension<RnnGradientsApi>(extensionId);
  assert.ok(extension, `${extensionId} is not installed in the extension host`);
  return extension.isActive ? extension.exports : extension.activate();
}

/** The source name of the extension's diagnostics. */
export const diagnosticSource = 'rnn-gradients';

/** Our diagnostics of a document. */
export function ours(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((diagnostic) => diagnostic.source === diagnosticSource);
}

/** Reverts and closes the active editor, then closes every editor. */
export async function closeAll(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every `pollMs` until `check` returns a value (not undefined) or the time is up. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined,
  timeoutMs = 30000,
  pollMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

/**
 * Asks the integration runner (test/run-integration.js) to click the button with this accessible name in the
 * workbench's webview frames, as a user would: the click goes through the page's own handler and postMessage.
 */
export function clickInWebview(button: string): void {
  console.log(`RNN_GRADIENTS_UI_CLICK ${JSON.stringify({ button })}`);
}
