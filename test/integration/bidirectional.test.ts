// Integration tests of a bidirectional model in the real extension host: a finding on a `_reverse` key, the
// hover on weight_hh_l0_reverse with the reverse direction's numbers, and the forget-bias quick fix that edits
// the reverse direction's biases (and only those).
import * as assert from 'assert';
import * as vscode from 'vscode';
import { formatHoverNumber } from '../../src/engine/report/format';
import { api, closeAll, fixture, ours, waitFor } from './helpers';

const FILE = 'bilstm-reverse.rnn.json';

function codeOf(diagnostic: vscode.Diagnostic): string {
  const code = diagnostic.code;
  return typeof code === 'object' && code !== null ? String(code.value) : String(code);
}

/** Opens the model file and waits until its analysis settled with a `code` diagnostic on `key`. */
async function openAndWait(
  code: string,
  key: string,
): Promise<{ editor: vscode.TextEditor; diagnostic: vscode.Diagnostic }> {
  const extension = await api();
  const document = await vscode.workspace.openTextDocument(fixture(FILE));
  const editor = await vscode.window.showTextDocument(document);
  const diagnostic = await waitFor(
    `a ${code} diagnostic on ${key}`,
    () =>
      extension.isBusy(document.uri)
        ? undefined
        : ours(document.uri).find((d) => codeOf(d) === code && document.getText(d.range) === key),
    60000,
  );
  return { editor, diagnostic };
}

describe('RNN Gradients on a bidirectional model', function () {
  this.timeout(120000);

  afterEach(closeAll);

  it('puts the reverse direction’s finding on "weight_hh_l0_reverse" and explains that direction on hover', async () => {
    const { editor, diagnostic } = await openAndWait('vanishing-gradients', '"weight_hh_l0_reverse"');
    assert.match(diagnostic.message, /^Layer 0 \(reverse\): /);
    const hoverText = async (at: vscode.Position): Promise<string> => {
      const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
        'vscode.executeHoverProvider',
        editor.document.uri,
        at,
      );
      return hovers
        .flatMap((hover) => hover.contents)
        .map((content) => (typeof content === 'string' ? content : content.value))
        .join('\n');
    };
    const reverse = await hoverText(diagnostic.range.start.translate(0, 3));
    assert.match(reverse, /\*\*weight_hh_l0_reverse\*\* — lstm layer 0 \(reverse\), shape \[8\]\[2\]/);
    assert.match(reverse, /Regime: \*\*vanishing\*\*/);
    const extension = await api();
    const result = await extension.analyze(editor.document.uri);
    assert.ok(result.ok);
    const [forwardLayer, reverseLayer] = [0, 1].map((i) => result.report.layers[i]);
    assert.deepStrictEqual([forwardLayer.direction, reverseLayer.direction], ['forward', 'reverse']);
    assert.notStrictEqual(forwardLayer.sigma_max, reverseLayer.sigma_max);
    assert.ok(
      reverse.includes(`| σ_max (largest singular value) | ${formatHoverNumber(reverseLayer.sigma_max)} |`),
      `the hover shows the reverse σ_max ${reverseLayer.sigma_max}: ${reverse}`,
    );
    const forwardKey = editor.document.getText().indexOf('"weight_hh_l0"');
    const forward = await hoverText(editor.document.positionAt(forwardKey + 3));
    assert.match(forward, /\*\*weight_hh_l0\*\* — lstm layer 0, shape \[8\]\[2\]/);
    assert.ok(
      forward.includes(`| σ_max (largest singular value) | ${formatHoverNumber(forwardLayer.sigma_max)} |`),
      `the hover shows the forward σ_max ${forwardLayer.sigma_max}: ${forward}`,
    );
  });

  it('the forget-bias quick fix on "bias_ih_l0_reverse" edits the reverse biases only, and the finding goes', async () => {
    const extension = await api();
    const { editor, diagnostic } = await openAndWait('forget-bias-low', '"bias_ih_l0_reverse"');
    assert.ok(
      !ours(editor.document.uri).some(
        (d) => codeOf(d) === 'forget-bias-low' && editor.document.getText(d.range) === '"bias_ih_l0"',
      ),
      'the forward direction has a forget bias of 1',
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      editor.document.uri,
      diagnostic.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((action) => action.title === 'Set forget-gate bias to 1.0 (layer 0 (reverse))');
    assert.ok(fix?.edit, `no reverse forget-bias fix among: ${actions.map((action) => action.title).join('; ')}`);
    const original = editor.document.getText();
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    const edited = editor.document.getText();
    assert.strictEqual(
      edited,
      original.replace(
        '"bias_ih_l0_reverse": [0, 0, 0, 0, 0, 0, 0, 0]',
        '"bias_ih_l0_reverse": [0, 0, 1, 1, 0, 0, 0, 0]',
      ),
      'only the f block of bias_ih_l0_reverse changes',
    );
    await waitFor('the re-analysis without the reverse forget-bias-low', () => {
      if (extension.isBusy(editor.document.uri)) return undefined;
      const now = ours(editor.document.uri);
      return now.length > 0 && !now.some((d) => codeOf(d) === 'forget-bias-low') ? true : undefined;
    });
  });
});
