// Integration test of "Compute the exact lag table" in the real extension host: a generated model whose lag table is
// sampled under a tiny rnnGradients.lagBudgetSeconds; the button clicked in the panel's webview (by the runner, as a
// user would) re-runs the analysis with the exact table. This test checks the data behind it (the analyses' results);
// what the user sees (the status bar's "estimated", the "±" intervals in the panel's lag table, the exact table after
// the click) is checked in the workbench by the e2e test 'a lag table sampled under a tiny
// rnnGradients.lagBudgetSeconds: …' (test/e2e/workbench.e2e.js).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AnalyzeResult } from '../../src/worker/protocol';
import { api, clickInWebview, closeAll, repoRoot } from './helpers';

/** The model file (test/fixtures/models, shared with the e2e and browser tests of the exact lag table). */
const modelText = fs.readFileSync(
  path.join(repoRoot, 'test', 'fixtures', 'models', 'exact-on-request.rnn.json'),
  'utf8',
);

describe('RNN Gradients exact lag table on request', function () {
  this.timeout(240000);
  let file: vscode.Uri | undefined;

  afterEach(async () => {
    await vscode.workspace
      .getConfiguration('rnnGradients')
      .update('lagBudgetSeconds', undefined, vscode.ConfigurationTarget.Global);
    await closeAll();
    if (file) fs.rmSync(file.fsPath, { force: true });
  });

  it('a sampled report shows "Compute the exact lag table"; clicking it in the webview gives the exact report', async () => {
    const extension = await api();
    await vscode.workspace
      .getConfiguration('rnnGradients')
      .update('lagBudgetSeconds', 0.001, vscode.ConfigurationTarget.Global);
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(folder, 'no workspace folder');
    file = vscode.Uri.file(path.join(folder, 'exact-on-request.rnn.json'));
    fs.writeFileSync(file.fsPath, modelText);
    const uri = file;
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('rnnGradients.analyze');
    // The same text and settings: the command's result answers (no second run).
    const sampled = await extension.analyze(uri);
    assert.ok(sampled.ok && sampled.report.lag_sampling, 'the report is not sampled');
    assert.ok(
      sampled.report.layers[0].lags.some((e) => e.sampled === true && e.log10_mean_ci95 !== undefined),
      'no sampled lag entry with its interval',
    );
    // The page drew the sampled report (its button is there to click).
    await extension.panel.whenRendered();

    clickInWebview('Compute the exact lag table');
    // The exact run answers a later request of the same text and settings (a sampled one would have been reused
    // before the click): polled until the exact result comes.
    const deadline = Date.now() + 180000;
    let exact: AnalyzeResult = sampled;
    while (exact.ok && exact.report.lag_sampling && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      exact = await extension.analyze(uri);
    }
    assert.ok(exact.ok && exact.report.lag_sampling === null, 'no exact report within 180 s of the click');
    for (const layer of exact.report.layers)
      for (const entry of layer.lags) {
        assert.ok(!entry.sampled && entry.log10_mean_ci95 === undefined, `lag ${entry.lag} is still estimated`);
      }
    // Every (t, ℓ) pair of the 2 sequences of 300 steps: lag ℓ has 2·(300 − ℓ) of them.
    assert.strictEqual(exact.report.layers[0].lags[0].count, 600);
    assert.strictEqual(exact.report.layers[0].lags[10].count, 2 * 290);
    // The command again (as Re-run or the status bar would): the exact result is reused, not replaced by a sample.
    const again = await vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri);
    assert.ok(again?.ok && again.report.lag_sampling === null, 'the command did not reuse the exact result');
  });
});
