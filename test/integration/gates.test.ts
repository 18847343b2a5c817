// Integration tests of the gate and unit findings in the real extension host: forget-gate-closed on bias_ih_l0 with
// the bias_ih hover and the forget-bias quick fix (the finding goes away, one undo restores the text), and
// units-saturated on weight_hh_l0 with the σ_max rescaling quick fix (re-analysis: σ_max is the chosen one and
// the finding goes away; only the matrix's numbers change; one undo restores the text).
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, closeAll, fixture, ours, waitFor } from './helpers';

function codeOf(diagnostic: vscode.Diagnostic): string {
  const code = diagnostic.code;
  return typeof code === 'object' && code !== null ? String(code.value) : String(code);
}

async function openAndWait(
  name: string,
  code: string,
): Promise<{ editor: vscode.TextEditor; found: vscode.Diagnostic }> {
  const extension = await api();
  const document = await vscode.workspace.openTextDocument(fixture(name));
  const editor = await vscode.window.showTextDocument(document);
  const found = await waitFor(
    `a ${code} diagnostic on ${name}`,
    () =>
      extension.isBusy(document.uri) ? undefined : ours(document.uri).find((diagnostic) => codeOf(diagnostic) === code),
    60000,
  );
  return { editor, found };
}

async function hoverText(uri: vscode.Uri, position: vscode.Position): Promise<string> {
  const hovers = await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', uri, position);
  return hovers
    .flatMap((hover) => hover.contents)
    .map((content) => (typeof content === 'string' ? content : content.value))
    .join('\n');
}

async function quickFixes(uri: vscode.Uri, range: vscode.Range): Promise<vscode.CodeAction[]> {
  return vscode.commands.executeCommand<vscode.CodeAction[]>(
    'vscode.executeCodeActionProvider',
    uri,
    range,
    vscode.CodeActionKind.QuickFix.value,
  );
}

async function waitUntilGone(uri: vscode.Uri, code: string): Promise<void> {
  const extension = await api();
  await waitFor(
    `the re-analysis without ${code}`,
    () => (!extension.isBusy(uri) && !ours(uri).some((d) => codeOf(d) === code) ? true : undefined),
    60000,
  );
}

async function undoTo(editor: vscode.TextEditor, original: string): Promise<void> {
  await vscode.window.showTextDocument(editor.document);
  await vscode.commands.executeCommand('undo');
  await waitFor('undo', () => (editor.document.getText() === original ? true : undefined), 5000);
}

describe('gates and units in the editor', function () {
  this.timeout(180000);
  afterEach(closeAll);

  it('forget-gate-closed on "bias_ih_l0": the hover shows the gates, the forget-bias fix clears it, undo restores', async () => {
    const { editor, found } = await openAndWait('gates-forget-closed.rnn.json', 'forget-gate-closed');
    const uri = editor.document.uri;
    assert.strictEqual(editor.document.getText(found.range), '"bias_ih_l0"');
    assert.strictEqual(found.severity, vscode.DiagnosticSeverity.Warning);
    assert.match(found.message, /forget gate's mean activation is 0\.0685 \(< 0\.2\)/);

    const hover = await hoverText(uri, found.range.start.translate(0, 3));
    assert.match(hover, /\*\*bias_ih_l0\*\* — lstm layer 0/);
    assert.match(hover, /\| forget \| 0\.0685\d* \| 40% \(< 0\.05\) \| 0% \(> 0\.95\) \|/);
    for (const gate of ['input', 'cell', 'output']) assert.match(hover, new RegExp(`\\| ${gate} \\| `));
    assert.match(hover, /Units \(o ⊙ tanh\(c\)\): saturated 0% of unit-steps, dead 0 of \d+/);

    const original = editor.document.getText();
    const actions = await quickFixes(uri, found.range);
    const fixes = actions.filter((action) => action.title === 'Set forget-gate bias to 1.0 (layer 0)');
    assert.strictEqual(fixes.length, 1, actions.map((action) => action.title).join('; '));
    assert.ok(fixes[0].edit && (await vscode.workspace.applyEdit(fixes[0].edit)));
    await waitUntilGone(uri, 'forget-gate-closed');
    await undoTo(editor, original);
  });

  it('units-saturated on "weight_hh_l0": rescaling to σ_max 1 edits only the matrix, clears the finding, undo restores', async () => {
    const extension = await api();
    const { editor, found } = await openAndWait('gates-units-saturated.rnn.json', 'units-saturated');
    const uri = editor.document.uri;
    assert.strictEqual(editor.document.getText(found.range), '"weight_hh_l0"');
    assert.match(found.message, /59% of unit-steps are saturated/);

    const original = editor.document.getText();
    const actions = await quickFixes(uri, found.range);
    const rescale = actions.find((action) => action.title === 'Rescale weight_hh_l0 to σ_max 1 (now 5.87)');
    assert.ok(rescale?.edit, actions.map((action) => action.title).join('; '));
    assert.ok(actions.some((action) => action.title === 'Rescale weight_hh_l0 to σ_max 0.9 (now 5.87)'));
    assert.ok(await vscode.workspace.applyEdit(rescale.edit));
    const edited = editor.document.getText();
    const skeleton = (text: string): string => text.replace(/-?\d+(\.\d+)?(e-?\d+)?/gi, '#');
    assert.strictEqual(skeleton(edited), skeleton(original), 'only numbers change');
    const otherKeys = (text: string): string => text.replace(/"weight_hh_l0": \[[\s\S]*?\]\s*\]/, '');
    assert.strictEqual(otherKeys(edited), otherKeys(original), 'only weight_hh_l0 changes');
    await waitUntilGone(uri, 'units-saturated');
    const result = await extension.analyze(uri);
    assert.ok(result.ok);
    assert.ok(Math.abs(result.report.layers[0].sigma_max - 1) < 1e-8, String(result.report.layers[0].sigma_max));
    assert.ok((result.report.layers[0].units?.saturated_share ?? 1) < 0.5);
    await undoTo(editor, original);
  });
});
