// Integration tests in the real extension host: activation, command registration, and the worker round trip.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { extensionId, fixtureIn, waitFor } from './helpers';

/** The golden rnn-tanh model: the workspace's copy when the workspace holds one, else the repository's. */
function goldenModelPath(): string {
  return fixtureIn('golden', 'rnn-tanh.rnn.json').fsPath;
}

function ourExtension(): vscode.Extension<unknown> {
  const extension = vscode.extensions.getExtension(extensionId);
  assert.ok(extension, `extension ${extensionId} is not loaded in the extension host`);
  return extension;
}

describe('RNN Gradients extension (in the extension host)', () => {
  it('activates when a *.rnn.json model is opened', async () => {
    const document = await vscode.workspace.openTextDocument(goldenModelPath());
    await vscode.window.showTextDocument(document);
    assert.strictEqual(vscode.window.activeTextEditor?.document.uri.fsPath, document.uri.fsPath);
    const extension = ourExtension();
    await waitFor(
      `${extensionId} to activate within 20 s of opening ${path.basename(document.fileName)}`,
      () => (extension.isActive ? true : undefined),
      20000,
    );
  });

  it('registers the command rnnGradients.analyze', async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes('rnnGradients.analyze'), 'command rnnGradients.analyze is not registered');
  });

  it('runs rnnGradients.analyze on the open model without throwing', async () => {
    const document = await vscode.workspace.openTextDocument(goldenModelPath());
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('rnnGradients.analyze');
  });

  it('answers an analysis request through the worker (extension API analyze())', async () => {
    const extension = ourExtension();
    const api = (extension.isActive ? extension.exports : await extension.activate()) as
      { analyze?: (params: unknown) => Promise<unknown> } | undefined;
    if (!api || typeof api.analyze !== 'function') {
      assert.fail('extension API analyze() missing: activate() must return an object with an analyze function');
    }
    const filePath = goldenModelPath();
    const text = fs.readFileSync(filePath, 'utf8');
    const params = { text, filePath, rootDir: path.dirname(filePath), displayPath: path.basename(filePath) };
    // analyze(params: AnalyzeParams): raw parameters, answered by the worker (no diagnostics involved).
    const result = (await api.analyze(params)) as { ok?: unknown; report?: { loss?: unknown }; problems?: unknown };
    assert.ok(result && typeof result === 'object', 'analyze() returned no result object');
    assert.strictEqual(
      result.ok,
      true,
      `analyze() did not succeed: ${JSON.stringify(result.problems ?? result).slice(0, 500)}`,
    );
    const loss = result.report?.loss;
    assert.ok(typeof loss === 'number' && Number.isFinite(loss), `report.loss is not a finite number: ${String(loss)}`);
  });
});
