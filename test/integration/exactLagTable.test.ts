// Integration test of "Compute the exact lag table" in the real extension host: a generated model whose lag table is
// sampled under a tiny rnnGradients.lagBudgetSeconds is shown sampled (status bar "estimated"); the button clicked
// in the panel's webview (by the runner, as a user would) re-runs the analysis with the exact table, and the panel
// then shows the exact report (lag_sampling null, no intervals) and the status bar no longer says "estimated".
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, clickInWebview, closeAll, waitFor } from './helpers';

const model = {
  name: 'sampled lag table (exact on request)',
  cell: 'rnn',
  nonlinearity: 'tanh',
  input_size: 4,
  hidden_size: 32,
  init: { scheme: 'orthogonal', gain: 0.9, seed: 3 },
  data: { generate: { sequences: 2, length: 300, distribution: 'normal', scale: 1.0, seed: 4 } },
  loss: 'sum',
  training: { clip_norm: 100, batch_size: 1 },
};

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
    fs.writeFileSync(file.fsPath, JSON.stringify(model, null, 2) + '\n');
    const uri = file;
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    await vscode.commands.executeCommand('rnnGradients.analyze');
    const sampled = await waitFor(
      'the sampled report in the panel',
      () => {
        const shown = extension.panel.shownReport;
        return shown?.documentUri === uri.toString() && !shown.partial && shown.report.lag_sampling ? shown : undefined;
      },
      120000,
    );
    await extension.panel.whenRendered();
    assert.ok(
      sampled.report.layers[0].lags.some((e) => e.sampled === true),
      'no sampled lag entry',
    );
    await waitFor('"estimated" in the status bar', () => (/estimated/.test(extension.statusText) ? true : undefined));

    clickInWebview('Compute the exact lag table');
    const exact = await waitFor(
      'the exact report in the panel',
      () => {
        const shown = extension.panel.shownReport;
        return shown?.documentUri === uri.toString() && !shown.partial && shown.report.lag_sampling === null
          ? shown
          : undefined;
      },
      180000,
    );
    assert.ok(exact.seq > sampled.seq);
    for (const layer of exact.report.layers)
      for (const entry of layer.lags) {
        assert.ok(!entry.sampled && entry.log10_mean_ci95 === undefined, `lag ${entry.lag} is still estimated`);
      }
    // Every (t, ℓ) pair of the 2 sequences of 300 steps: lag ℓ has 2·(300 − ℓ) of them.
    assert.strictEqual(exact.report.layers[0].lags[0].count, 600);
    assert.strictEqual(exact.report.layers[0].lags[10].count, 2 * 290);
    // The page drew the exact report.
    await extension.panel.whenRendered();
    // Clicking the page moved the focus to the panel (the status bar item hides without an active model file):
    // back in the model file's editor (its own column, so the panel stays visible), the status bar shows the exact
    // report.
    await vscode.window.showTextDocument(document, { viewColumn: vscode.ViewColumn.One });
    await waitFor('the status bar without "estimated"', () =>
      /RNN: /.test(extension.statusText) && !/estimated/.test(extension.statusText) ? true : undefined,
    );
  });
});
