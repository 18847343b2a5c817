// Wrong input is quiet, in the real extension host: a deleted "}" leaves syntax errors to VS Code's JSON service (none
// of ours), and a misspelt key gives exactly one error of ours with a "did you mean" quick fix that repairs the file.
import * as assert from 'assert';
import * as vscode from 'vscode';
import { api, closeAll, diagnosticSource, fixture, ours, sleep, waitFor } from './helpers';

/** Every diagnostic of a document, ours and VS Code's (the JSON service), as "source: message" lines. */
function allDiagnostics(uri: vscode.Uri): string[] {
  return vscode.languages
    .getDiagnostics(uri)
    .map((diagnostic) => `${diagnostic.source ?? '?'}: ${diagnostic.message} @${diagnostic.range.start.line + 1}`);
}

describe('wrong input in the editor', function () {
  this.timeout(120000);

  afterEach(closeAll);

  it('one deleted "}" gives no syntax error of ours beside the JSON service\'s own', async () => {
    const extension = await api();
    const document = await vscode.workspace.openTextDocument(fixture('vanishing.rnn.json'));
    const editor = await vscode.window.showTextDocument(document);
    await waitFor('the first analysis', () =>
      !extension.isBusy(document.uri) && ours(document.uri).length > 0 ? true : undefined,
    );
    // Delete the "}" that closes "weights": "data" and the rest now sit inside it.
    const text = document.getText();
    const at = text.indexOf('  },\n  "data"');
    assert.ok(at > 0, 'the fixture changed: no "}" before "data"');
    await editor.edit((edit) =>
      edit.delete(new vscode.Range(document.positionAt(at + 2), document.positionAt(at + 3))),
    );
    const jsonErrors = await waitFor(
      "VS Code's own syntax error",
      () => {
        if (extension.isBusy(document.uri)) return undefined;
        const others = vscode.languages.getDiagnostics(document.uri).filter((d) => d.source !== diagnosticSource);
        return others.some((d) => d.severity === vscode.DiagnosticSeverity.Error) ? others : undefined;
      },
      30000,
    );
    await sleep(1000); // a late diagnostic of ours would show here
    const mine = ours(document.uri);
    console.log(
      `    deleted "}": ${allDiagnostics(document.uri).length} problem(s): ${allDiagnostics(document.uri).join(' | ')}`,
    );
    assert.deepStrictEqual(
      mine.map((d) => d.message),
      [],
      `our syntax errors repeat the JSON service's (${jsonErrors.length} of its own)`,
    );
    assert.match(extension.statusText, /wrong input/, 'the status bar still says the file does not read');
  });

  it('a misspelt hidden_size gives exactly one error, and its "did you mean" quick fix repairs the file', async () => {
    const extension = await api();
    const document = await vscode.workspace.openTextDocument(fixture('misspelt-key.rnn.json'));
    await vscode.window.showTextDocument(document);
    const errors = await waitFor('the wrong-input diagnostics', () => {
      const found = ours(document.uri);
      return !extension.isBusy(document.uri) && found.length > 0 ? found : undefined;
    });
    assert.deepStrictEqual(
      errors.map((d) => [d.message.split(';')[0], document.getText(d.range)]),
      [['hiddn_size: unknown key (did you mean "hidden_size"?)', '"hiddn_size"']],
      errors.map((d) => d.message).join(' | '),
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      document.uri,
      errors[0].range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((action) => /did you mean "hidden_size"/i.test(action.title));
    assert.ok(fix?.edit, `no "did you mean" fix among: ${actions.map((action) => action.title).join('; ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.match(document.getText(), /"hidden_size": 16,/);
    await waitFor('the repaired file to analyze without wrong input', () =>
      !extension.isBusy(document.uri) &&
      !ours(document.uri).some((d) => d.severity === vscode.DiagnosticSeverity.Error) &&
      /RNN: (?!wrong input|analyzing|not analyzed)/.test(extension.statusText) &&
      !/wrong input/.test(extension.statusText)
        ? true
        : undefined,
    );
  });
});
