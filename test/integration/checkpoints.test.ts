// Checkpoints in the real extension host: "Analyze RNN gradients" on a .pt from the Explorer (the module picked in
// the quick pick, the report in the panel), a model file whose checkpoint holds several modules (an error
// diagnostic on the `weights` value, the quick fix that writes `module`), and "Create model file from checkpoint"
// (writes and opens a model file that analyzes).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AnalyzeResult } from '../../src/worker/protocol';
import { api, closeAll, fixtureIn, ours, sleep, waitFor } from './helpers';

const checkpoint = (name: string): vscode.Uri => fixtureIn('checkpoints', name);

/** Accepts the quick pick's second item once it shows, until `pending` settles. */
async function pickSecondItem<T>(pending: Thenable<T>): Promise<T> {
  let settled = false;
  const done = Promise.resolve(pending).finally(() => {
    settled = true;
  });
  const deadline = Date.now() + 60000;
  while (!settled && Date.now() < deadline) {
    await sleep(700);
    if (settled) break;
    await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
    await sleep(100);
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
  }
  return done;
}

interface Menu {
  command: string;
  when?: string;
}

describe('RNN Gradients with checkpoints', function () {
  this.timeout(120000);

  afterEach(closeAll);

  it('offers both commands in the Explorer context menu of checkpoint files only', () => {
    const extension = vscode.extensions.all.find((e) => e.id.toLowerCase() === 'rnn-gradients.rnn-gradients');
    assert.ok(extension);
    const menus = (extension.packageJSON as { contributes: { menus: Record<string, Menu[]> } }).contributes.menus;
    const explorer = menus['explorer/context'];
    for (const command of ['rnnGradients.analyze', 'rnnGradients.createModelFile']) {
      const entry = explorer.find((m) => m.command === command && /resourceExtname/.test(m.when ?? ''));
      assert.ok(entry, `${command} is not in the Explorer context menu of checkpoints`);
      const pattern = /resourceExtname =~ \/(.*)\/(i?)/.exec(entry.when ?? '');
      assert.ok(pattern, entry.when);
      const regex = new RegExp(pattern[1], pattern[2]);
      for (const ext of ['.pt', '.pth', '.bin', '.ckpt', '.onnx', '.keras', '.h5', '.hdf5', '.npz', '.safetensors'])
        assert.ok(regex.test(ext), `${command}: ${ext} not matched by ${entry.when}`);
      for (const ext of ['.json', '.py', '.npy', '.txt']) assert.ok(!regex.test(ext), `${command}: ${ext} matched`);
    }
  });

  it('Analyze on a .pt with two recurrent modules: the quick pick chooses one, the panel shows its report', async () => {
    const extension = await api();
    const uri = checkpoint('whole-module.pt');
    // What the Explorer's context menu runs: the command with the file's URI.
    const pending = vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri);
    const result = await pickSecondItem(pending);
    assert.ok(result?.ok, `no report: ${JSON.stringify(result)}`);
    const source = (result.report.model as { source?: { format: string; path?: string; module: string } }).source;
    assert.strictEqual(source?.format, 'pytorch');
    assert.ok(['rnn', 'aux'].includes(source.module), `module ${source.module}`);
    assert.ok(
      result.report.findings.some((f) => f.code === 'synthetic-data'),
      'no synthetic-data finding without data',
    );
    assert.strictEqual(extension.panel.currentDocument?.toString(), uri.toString());
    const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(rendered, 'the report panel did not render within 30 s');
    assert.strictEqual(extension.panel.shownReport?.report.model.cell, result.report.model.cell);
  });

  it('a model file naming that .pt: an error on the weights value listing the modules, fixed by the quick fix', async () => {
    await api();
    const uri = vscode.Uri.file(path.join(path.dirname(checkpoint('whole-module.pt').fsPath), 'two-modules.rnn.json'));
    fs.writeFileSync(uri.fsPath, '{\n  "weights": "whole-module.pt"\n}\n');
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    const error = await waitFor(
      'an error diagnostic on the weights value',
      () => ours(uri).find((d) => d.severity === vscode.DiagnosticSeverity.Error),
      60000,
    );
    assert.strictEqual(editor.document.getText(error.range), '"whole-module.pt"');
    assert.match(error.message, /"rnn", "aux"/);
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      error.range,
    );
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Use module "aux"'), titles.join(', '));
    const aux = actions.find((a) => a.title === 'Use module "aux"') as vscode.CodeAction;
    assert.ok(aux.edit && (await vscode.workspace.applyEdit(aux.edit)));
    assert.match(document.getText(), /"module": "aux"/);
    await waitFor(
      'the error to go',
      () => {
        const now = ours(uri);
        return now.length > 0 && !now.some((d) => d.severity === vscode.DiagnosticSeverity.Error) ? now : undefined;
      },
      60000,
    );
    const result = await vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri);
    assert.ok(result?.ok);
    assert.strictEqual(result.report.model.source?.module, 'aux');
    // Findings about the checkpoint's tensors sit on the weights value.
    const tensorFindings = result.report.findings.filter(
      (f) => f.path[0] === 'weights' && f.path.length > 1 && f.severity !== 'info',
    );
    const onTensors = await waitFor('the findings on the weights value', () => {
      const now = ours(uri).filter((d) => d.severity !== vscode.DiagnosticSeverity.Information);
      return now.length >= tensorFindings.length ? now : undefined;
    });
    for (const d of onTensors) assert.strictEqual(editor.document.getText(d.range), '"whole-module.pt"', d.message);
  });

  it('"Create model file from checkpoint" writes NAME.rnn.json next to it and opens it; it analyzes', async () => {
    const extension = await api();
    const pt = checkpoint('lstm-f32.pt');
    const target = path.join(path.dirname(pt.fsPath), 'lstm-f32.rnn.json');
    if (fs.existsSync(target)) fs.unlinkSync(target);
    const written = await vscode.commands.executeCommand<vscode.Uri | undefined>('rnnGradients.createModelFile', pt);
    assert.strictEqual(written?.fsPath, target);
    assert.ok(fs.existsSync(target));
    const editor = await waitFor('the new model file in an editor', () =>
      vscode.window.activeTextEditor?.document.uri.fsPath === target ? vscode.window.activeTextEditor : undefined,
    );
    assert.match(editor.document.getText(), /"weights": "lstm-f32\.pt"/);
    await waitFor('its analysis', () =>
      !extension.isBusy(editor.document.uri) && extension.client !== undefined ? true : undefined,
    );
    const result = await vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', written);
    assert.ok(result?.ok, `the written model file does not analyze: ${JSON.stringify(result)}`);
    assert.strictEqual(result.report.model.source?.path, 'lstm-f32.pt');
    assert.ok(!ours(editor.document.uri).some((d) => d.severity === vscode.DiagnosticSeverity.Error));
  });
});
