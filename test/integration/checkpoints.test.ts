// Checkpoints in the real extension host, checked by what the user sees: "Analyze RNN gradients" run on a .pt as
// the Explorer's context menu runs it (the module chosen in the workbench's quick pick, the report rendered in the
// panel's tab), the same command on a model file whose checkpoint holds several modules (the pick written into the
// document as "module"), the error diagnostic on the `weights` value with the quick fix that writes `module` (the
// document's text after the fix), the hover on the `weights` value, and "Create model file from checkpoint"
// (writes and opens a model file that analyzes without errors).
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AnalyzeResult } from '../../src/worker/protocol';
import { api, closeAll, fixtureIn, ours, sleep, waitFor } from './helpers';

const checkpoint = (name: string): vscode.Uri => fixtureIn('checkpoints', name);

/** The folder of the checkpoint fixtures inside the test workspace. */
const checkpointFolder = (): string => path.dirname(checkpoint('whole-module.pt').fsPath);

/**
 * A copy of whole-module.pt (two recurrent modules: "rnn", then "aux") under a new name, so that no module chosen
 * for the fixture by an earlier test is remembered for it.
 */
function twoModuleCheckpoint(name: string): vscode.Uri {
  const target = path.join(checkpointFolder(), name);
  fs.copyFileSync(checkpoint('whole-module.pt').fsPath, target);
  return vscode.Uri.file(target);
}

/** A quick pick the extension showed: its title and the labels of its items, in order. */
interface ShownPick {
  title?: string;
  labels: string[];
}

/**
 * Runs `start` and answers the quick pick it shows as a user would with the keyboard: Down until the item labelled
 * `label` is active, then Enter (without a label: Escape), in the workbench's real quick input widget. The extension's showQuickPick calls are
 * recorded meanwhile (the extension and this test share the extension host's `vscode` API), so the keys are sent
 * only once the pick is up, and the test sees what it listed. Resolves with the command's result and the picks.
 */
async function answerQuickPick<T>(
  start: () => Thenable<T>,
  label: string | undefined,
): Promise<{ result: T; picks: ShownPick[] }> {
  const window = vscode.window as { showQuickPick: (...args: unknown[]) => Thenable<unknown> };
  const original = window.showQuickPick;
  const picks: ShownPick[] = [];
  window.showQuickPick = function (this: unknown, ...args: unknown[]) {
    const [items, options] = args as [readonly vscode.QuickPickItem[], vscode.QuickPickOptions | undefined];
    picks.push({ title: options?.title, labels: Array.isArray(items) ? items.map((i) => i.label) : [] });
    return original.apply(this, args);
  };
  try {
    let settled = false;
    const pending = Promise.resolve(start()).finally(() => {
      settled = true;
    });
    await waitFor('the quick pick', () => (picks.length > 0 || settled ? true : undefined), 60000);
    assert.ok(picks.length > 0, 'no quick pick was shown');
    await sleep(500);
    if (label === undefined) {
      await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    } else {
      const index = picks[0].labels.indexOf(label);
      assert.ok(index >= 0, `no item "${label}" in the quick pick: ${picks[0].labels.join(', ')}`);
      for (let i = 0; i < index; i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    const result = await Promise.race([pending, sleep(60000).then(() => 'timeout' as const)]);
    assert.notStrictEqual(result, 'timeout', 'the command did not finish after the pick');
    return { result: result as T, picks };
  } finally {
    window.showQuickPick = original;
  }
}

/** Settles with `pending`, or with 'timeout' after `ms` (the quick pick is then closed). */
async function within<T>(pending: Thenable<T>, ms: number): Promise<T | 'timeout'> {
  const result = await Promise.race([Promise.resolve(pending), sleep(ms).then(() => 'timeout' as const)]);
  if (result === 'timeout') await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
  return result;
}

/** The report panel's tab in the workbench (a webview tab titled "Gradients: NAME"), if shown. */
function panelTab(name: string): vscode.Tab | undefined {
  for (const group of vscode.window.tabGroups.all)
    for (const tab of group.tabs)
      if (tab.input instanceof vscode.TabInputWebview && tab.label === `Gradients: ${name}`) return tab;
  return undefined;
}

/** The source a report names: format, path and module. */
function sourceOf(result: AnalyzeResult | undefined): { format: string; path?: string; module: string } | undefined {
  return result?.ok ? result.report.model.source : undefined;
}

/** The text of a hover's contents. */
function hoverText(hovers: vscode.Hover[]): string {
  return hovers
    .flatMap((h) => h.contents)
    .map((c) => (typeof c === 'string' ? c : c.value))
    .join('\n');
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

  it('Analyze on a .pt with two recurrent modules: the quick pick chooses "aux", its report renders in the panel', async () => {
    const extension = await api();
    const uri = twoModuleCheckpoint('pick-direct.pt');
    // What the Explorer's context menu runs: the command with the file's URI.
    const { result, picks } = await answerQuickPick(
      () => vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri),
      'aux',
    );
    // One quick pick, listing the candidates in the file's order.
    assert.deepStrictEqual(picks, [
      { title: 'pick-direct.pt holds several recurrent modules', labels: ['rnn', 'aux'] },
    ]);
    assert.ok(result?.ok, `no report: ${JSON.stringify(result)}`);
    assert.deepStrictEqual(sourceOf(result), { format: 'pytorch', path: 'pick-direct.pt', module: 'aux' });
    assert.ok(
      result.report.findings.some((f) => f.code === 'synthetic-data'),
      'no synthetic-data finding without data',
    );
    // The panel's tab shows in the workbench and its webview rendered this report, charts included.
    const tab = await waitFor('the report panel tab', () => panelTab('pick-direct.pt'));
    assert.ok(tab.group.viewColumn !== undefined);
    assert.strictEqual(extension.panel.currentDocument?.toString(), uri.toString());
    const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(rendered, 'the report panel did not render within 30 s');
    assert.ok(rendered.charts > 0, 'the panel drew no chart');
    // Data flow: the panel was given the chosen module's report (a hook read; the UI side, the panel's header naming
    // the weights file and its module, is checked in the workbench by the e2e test 'a model file reading a PyTorch
    // checkpoint: the panel’s header names its weights file and module, as the report says').
    const shown = extension.panel.shownReport;
    assert.strictEqual(shown?.documentUri, uri.toString());
    assert.deepStrictEqual(shown.report.model.source, sourceOf(result));
    // The extension does not take the .pt over: no text editor shows it.
    assert.ok(!vscode.window.visibleTextEditors.some((e) => e.document.uri.fsPath === uri.fsPath));
    // Analyzed again, the chosen module is kept: no quick pick this time.
    const again = await within(
      vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri),
      60000,
    );
    assert.notStrictEqual(again, 'timeout', 'the second analysis asked again (or hung)');
    assert.strictEqual(sourceOf(again as AnalyzeResult)?.module, 'aux');
    assert.strictEqual(extension.panel.shownReport?.report.model.source?.module, 'aux');
  });

  it('Analyze on a .pt whose quick pick is dismissed: no report, no panel', async () => {
    const extension = await api();
    const uri = twoModuleCheckpoint('pick-dismissed.pt');
    const { result, picks } = await answerQuickPick(
      () => vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri),
      undefined,
    );
    assert.strictEqual(picks.length, 1);
    assert.ok(result && !result.ok, 'a report without a module choice');
    assert.match(result.problems[0]?.message ?? '', /"rnn", "aux"/);
    assert.strictEqual(panelTab('pick-dismissed.pt'), undefined);
    assert.notStrictEqual(extension.panel.currentDocument?.toString(), uri.toString());
  });

  it('Analyze on a model file naming a two-module .pt: the quick pick writes "module" into the document', async () => {
    const extension = await api();
    const uri = vscode.Uri.file(path.join(checkpointFolder(), 'pick-model.rnn.json'));
    fs.writeFileSync(uri.fsPath, '{\n  "weights": "whole-module.pt"\n}\n');
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    const { result, picks } = await answerQuickPick(
      () => vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', uri),
      'aux',
    );
    assert.deepStrictEqual(picks, [
      { title: 'pick-model.rnn.json holds several recurrent modules', labels: ['rnn', 'aux'] },
    ]);
    // The pick is written into the document (not saved: the user sees the edit and can undo it).
    assert.strictEqual(document.getText(), '{\n  "weights": "whole-module.pt",\n  "module": "aux"\n}\n');
    assert.ok(document.isDirty);
    assert.ok(result?.ok, `no report: ${JSON.stringify(result)}`);
    assert.strictEqual(sourceOf(result)?.module, 'aux');
    await waitFor('the report panel tab', () => panelTab('pick-model'));
    // Data flow (hook read): the panel was given the picked module's report; its header is checked in the e2e test
    // named above.
    assert.strictEqual(extension.panel.shownReport?.report.model.source?.module, 'aux');
    const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(rendered && rendered.charts > 0, 'the report panel did not render its charts within 30 s');
    await waitFor('no error diagnostic', () => {
      const now = ours(uri);
      return now.length > 0 && !now.some((d) => d.severity === vscode.DiagnosticSeverity.Error) ? now : undefined;
    });
  });

  it('a model file naming that .pt: an error on the weights value listing the modules, fixed by the quick fix', async () => {
    await api();
    const uri = vscode.Uri.file(path.join(checkpointFolder(), 'two-modules.rnn.json'));
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
    // What the light bulb offers on that diagnostic.
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      uri,
      error.range,
    );
    const titles = actions.map((a) => a.title);
    assert.ok(titles.includes('Use module "rnn"') && titles.includes('Use module "aux"'), titles.join(', '));
    const aux = actions.find((a) => a.title === 'Use module "aux"') as vscode.CodeAction;
    assert.ok(aux.edit && (await vscode.workspace.applyEdit(aux.edit)));
    assert.strictEqual(document.getText(), '{\n  "weights": "whole-module.pt",\n  "module": "aux"\n}\n');
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
    assert.strictEqual(sourceOf(result)?.module, 'aux');
    // Findings about the checkpoint's tensors (aux vanishes: a warning on weight_hh_l0) sit on the weights value.
    const tensorFindings = result.report.findings.filter(
      (f) => f.path[0] === 'weights' && f.path.length > 1 && f.severity !== 'info',
    );
    assert.ok(
      tensorFindings.some((f) => f.code === 'vanishing-gradients'),
      JSON.stringify(result.report.findings.map((f) => f.code)),
    );
    const onTensors = await waitFor('the findings on the weights value', () => {
      const now = ours(uri).filter((d) => d.severity !== vscode.DiagnosticSeverity.Information);
      return now.length >= tensorFindings.length ? now : undefined;
    });
    assert.ok(onTensors.some((d) => d.code !== undefined && JSON.stringify(d.code).includes('vanishing-gradients')));
    for (const d of onTensors) assert.strictEqual(editor.document.getText(d.range), '"whole-module.pt"', d.message);
    // The hover on the weights value, and on its key, names the source, then explains the layer.
    for (const at of [document.getText().indexOf('whole-module.pt') + 3, document.getText().indexOf('weights') + 2]) {
      const hover = hoverText(
        await vscode.commands.executeCommand<vscode.Hover[]>(
          'vscode.executeHoverProvider',
          uri,
          document.positionAt(at),
        ),
      );
      assert.match(hover, /weights from whole-module\.pt, module aux\*\* \(pytorch\)/);
      assert.match(hover, /σ_max/);
    }
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
    assert.strictEqual(editor.document.getText(), fs.readFileSync(target, 'utf8'));
    assert.match(editor.document.getText(), /"weights": "lstm-f32\.pt"/);
    await waitFor('its analysis', () =>
      !extension.isBusy(editor.document.uri) && extension.client !== undefined ? true : undefined,
    );
    const result = await vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', written);
    assert.ok(result?.ok, `the written model file does not analyze: ${JSON.stringify(result)}`);
    assert.strictEqual(sourceOf(result)?.path, 'lstm-f32.pt');
    await waitFor('its diagnostics, without errors', () => {
      const now = ours(editor.document.uri);
      return now.length > 0 && !now.some((d) => d.severity === vscode.DiagnosticSeverity.Error) ? now : undefined;
    });
  });

  it('"Create model file from checkpoint" on a two-module .pt: the quick pick chooses the module written', async () => {
    await api();
    const pt = twoModuleCheckpoint('pick-create.pt');
    const target = path.join(checkpointFolder(), 'pick-create.rnn.json');
    if (fs.existsSync(target)) fs.unlinkSync(target);
    const { result: written, picks } = await answerQuickPick(
      () => vscode.commands.executeCommand<vscode.Uri | undefined>('rnnGradients.createModelFile', pt),
      'aux',
    );
    assert.strictEqual(picks.length, 1);
    assert.deepStrictEqual(picks[0].labels, ['rnn', 'aux']);
    assert.strictEqual(written?.fsPath, target);
    const editor = await waitFor('the new model file in an editor', () =>
      vscode.window.activeTextEditor?.document.uri.fsPath === target ? vscode.window.activeTextEditor : undefined,
    );
    assert.match(editor.document.getText(), /^ {2}"module": "aux",$/m);
    const result = await vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', written);
    assert.ok(result?.ok, `the written model file does not analyze: ${JSON.stringify(result)}`);
    assert.strictEqual(sourceOf(result)?.module, 'aux');
  });
});
