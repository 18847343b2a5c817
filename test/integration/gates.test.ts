// Integration tests of the gate and unit findings in the real extension host: forget-gate-closed on bias_ih_l0 with
// the bias_ih hover and the forget-bias quick fix (the finding goes away, one undo restores the text), and
// units-saturated on weight_hh_l0 with the σ_max rescaling quick fix (re-analysis: σ_max is the chosen one and
// the finding goes away; only the matrix's numbers change; one undo restores the text). Then the two examples of
// issue 13 (examples/lstm-forget-closed, examples/relu-dead-units): each finding as a diagnostic on its key, and
// listed in the report panel as the page rendered it (the webview reads its findings list and its "Gates and
// units" text back from its DOM and posts them with `rendered`).
import * as assert from 'assert';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, closeAll, fixture, ours, repoRoot, sleep, waitFor } from './helpers';

function codeOf(diagnostic: vscode.Diagnostic): string {
  const code = diagnostic.code;
  return typeof code === 'object' && code !== null ? String(code.value) : String(code);
}

async function openAndWait(
  name: string | vscode.Uri,
  code: string,
): Promise<{ editor: vscode.TextEditor; found: vscode.Diagnostic }> {
  const extension = await api();
  const document = await vscode.workspace.openTextDocument(typeof name === 'string' ? fixture(name) : name);
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

/** The two examples of issue 13, each with the finding it must show, the key it sits on, and its message. */
const examples = [
  {
    file: 'lstm-forget-closed.rnn.json',
    code: 'forget-gate-closed',
    key: 'bias_ih_l0',
    message: /^Layer 0: the forget gate's mean activation is 0\.0495 \(< 0\.2\)/,
    charts: 7,
    gates: [/^layer 0 \(o ⊙ tanh\(c\)\): no dead units; 0% of unit-steps saturated\.$/, /^Layer 0: gate activations$/],
  },
  {
    file: 'relu-dead-units.rnn.json',
    code: 'dead-units',
    key: 'weight_hh_l0',
    message: /^Layer 0: 3 of 8 units \(1, 4, 6\) are exactly 0 at every step of every sequence/,
    charts: 6,
    gates: [
      /^An rnn cell has no gates; its units are below\.$/,
      /^layer 0 \(h\): 3 of 8 units dead \(1, 4, 6\); 0% of unit-steps saturated\.$/,
    ],
  },
];

describe('the gate and unit examples in the editor and the report panel', function () {
  this.timeout(180000);
  afterEach(closeAll);

  for (const example of examples) {
    it(`examples/${example.file}: ${example.code} on "${example.key}" in the editor, and listed in the rendered panel`, async () => {
      const extension = await api();
      const uri = vscode.Uri.file(path.join(repoRoot, 'examples', example.file));
      const { editor, found } = await openAndWait(uri, example.code);
      assert.strictEqual(editor.document.getText(found.range), `"${example.key}"`);
      assert.strictEqual(found.severity, vscode.DiagnosticSeverity.Warning);
      assert.match(found.message, example.message);
      const same = ours(uri).filter((d) => codeOf(d) === example.code);
      assert.strictEqual(same.length, 1, same.map((d) => d.message).join(' | '));

      const result = await vscode.commands.executeCommand<{ ok?: boolean } | undefined>('rnnGradients.analyze');
      assert.strictEqual(result?.ok, true, 'the command did not produce a report');
      assert.strictEqual(extension.panel.currentDocument?.toString(), uri.toString());
      const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
      assert.ok(rendered, 'the report panel did not render within 30 s');
      assert.ok(rendered.text, 'the panel sent no rendered text');
      const rows = rendered.text.findings;
      const row = rows.find((f) => f.code === example.code);
      assert.ok(row, `the panel's findings list shows ${rows.map((f) => f.code).join(', ') || 'nothing'}`);
      assert.strictEqual(row.path, `weights › ${example.key}`);
      assert.match(row.message, example.message);
      assert.strictEqual(rendered.charts, example.charts, `charts drawn: ${rendered.charts}`);
      for (const line of example.gates)
        assert.ok(
          rendered.text.gates.some((g) => line.test(g)),
          `the Gates and units section shows: ${rendered.text.gates.join(' | ')}`,
        );
    });
  }
});
