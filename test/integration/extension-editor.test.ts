// Integration tests of the editor face in the real extension host: the command and report panel, diagnostics on
// their ranges, the clip quick fix and its undo, hover, status bar, Cancel, worker crash recovery, rapid edits.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { api, closeAll, fixture, ours, sleep, waitFor } from './helpers';

function codeOf(diagnostic: vscode.Diagnostic): string {
  const code = diagnostic.code;
  return typeof code === 'object' && code !== null ? String(code.value) : String(code);
}

/** Opens a model file in an editor and waits until its analysis settled with a diagnostic of `code`. */
async function openAndWait(
  name: string,
  code: string,
): Promise<{ editor: vscode.TextEditor; diagnostics: vscode.Diagnostic[] }> {
  const extension = await api();
  const document = await vscode.workspace.openTextDocument(fixture(name));
  const editor = await vscode.window.showTextDocument(document);
  const diagnostics = await waitFor(
    `a ${code} diagnostic on ${name}`,
    () => {
      const found = ours(document.uri);
      return !extension.isBusy(document.uri) && found.some((diagnostic) => codeOf(diagnostic) === code)
        ? found
        : undefined;
    },
    60000,
  );
  return { editor, diagnostics };
}

/** The text a diagnostic sits on. */
function textAt(editor: vscode.TextEditor, diagnostic: vscode.Diagnostic): string {
  return editor.document.getText(diagnostic.range);
}

describe('RNN Gradients editor face', function () {
  this.timeout(120000);

  afterEach(closeAll);

  it('the command analyzes the active model file and opens the report panel', async () => {
    const extension = await api();
    const document = await vscode.workspace.openTextDocument(fixture('vanishing.rnn.json'));
    await vscode.window.showTextDocument(document);
    const result = await vscode.commands.executeCommand<{ ok?: boolean } | undefined>('rnnGradients.analyze');
    assert.strictEqual(result?.ok, true, 'the command did not produce a report');
    assert.strictEqual(extension.panel.currentDocument?.toString(), document.uri.toString());
    const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(rendered, 'the report panel did not render within 30 s');
  });

  it('puts a vanishing-gradients warning on the weight_hh_l0 key, explains it on hover, and shows the regime', async () => {
    const { editor, diagnostics } = await openAndWait('vanishing.rnn.json', 'vanishing-gradients');
    const vanishing = diagnostics.find((diagnostic) => codeOf(diagnostic) === 'vanishing-gradients');
    assert.ok(vanishing);
    assert.strictEqual(textAt(editor, vanishing), '"weight_hh_l0"');
    assert.strictEqual(vanishing.severity, vscode.DiagnosticSeverity.Warning);
    // The code links to the README shipped inside the extension, at the finding's section: opening the link
    // as the workbench does shows the README with the cursor on "### Finding: vanishing-gradients".
    const target = typeof vanishing.code === 'object' ? vanishing.code.target : undefined;
    assert.ok(target, 'the code has no link');
    assert.strictEqual(target.scheme, 'file');
    assert.match(target.path, /\/readme\.md$/i);
    assert.match(target.fragment, /^L\d+$/);
    assert.doesNotMatch(target.toString(), /example\.invalid/);
    await vscode.commands.executeCommand('vscode.open', target);
    const readme = await waitFor('the README opened at the section', () => {
      const active = vscode.window.activeTextEditor;
      return active && /readme\.md$/i.test(active.document.uri.path) ? active : undefined;
    });
    assert.strictEqual(
      readme.document.lineAt(readme.selection.active.line).text,
      '### Finding: vanishing-gradients',
      `the README opened at line ${readme.selection.active.line + 1}`,
    );
    await vscode.window.showTextDocument(editor.document);
    assert.ok(!diagnostics.some((diagnostic) => codeOf(diagnostic) === 'exploding-gradients'));

    const hovers = await vscode.commands.executeCommand<vscode.Hover[]>(
      'vscode.executeHoverProvider',
      editor.document.uri,
      vanishing.range.start.translate(0, 3),
    );
    const hoverText = hovers
      .flatMap((hover) => hover.contents)
      .map((content) => (typeof content === 'string' ? content : content.value))
      .join('\n');
    assert.match(hoverText, /σ_max/);
    assert.match(hoverText, /sufficient for vanishing/);
    assert.match(hoverText, /Regime: \*\*vanishing\*\*/);
    const extension = await api();
    await waitFor('the status bar regime', () => (/vanishing/.test(extension.statusText) ? true : undefined));
  });

  it('puts exploding-gradients on weight_hh_l0 and clip-never-triggers on clip_norm; the quick fix sets clip_norm and undo restores the text', async () => {
    const { editor, diagnostics } = await openAndWait('exploding.rnn.json', 'exploding-gradients');
    const exploding = diagnostics.find((diagnostic) => codeOf(diagnostic) === 'exploding-gradients');
    assert.ok(exploding);
    assert.strictEqual(textAt(editor, exploding), '"weight_hh_l0"');
    const clip = diagnostics.find((diagnostic) => codeOf(diagnostic) === 'clip-never-triggers');
    assert.ok(clip, `no clip-never-triggers among ${diagnostics.map(codeOf).join(', ')}`);
    assert.strictEqual(textAt(editor, clip), '"clip_norm"');

    const original = editor.document.getText();
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      editor.document.uri,
      clip.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const setNorm = actions.find((action) => action.title.startsWith('Set clip_norm to'));
    assert.ok(setNorm?.edit, `no clip_norm quick fix among: ${actions.map((action) => action.title).join('; ')}`);
    // The title says what changes: "Set clip_norm to 2.5: clips 1 of 2 batches (now 1e+06: never clips)".
    const title = /^Set clip_norm to ([-+0-9.e]+): (?:clips|never).* \(now [^:]+: never clips\)$/.exec(setNorm.title);
    assert.ok(title, `quick fix title: ${setNorm.title}`);
    const suggested = Number(title[1]);
    assert.ok(Number.isFinite(suggested) && suggested > 0 && suggested < 1000000);
    assert.ok(await vscode.workspace.applyEdit(setNorm.edit));
    const edited = editor.document.getText();
    assert.match(
      edited,
      new RegExp(`"clip_norm": ${suggested.toString().replace('.', '\\.')}, // effectively never clips`),
    );
    assert.strictEqual(
      edited.replace(/"clip_norm": [^,]+,/, ''),
      original.replace(/"clip_norm": [^,]+,/, ''),
      'the rest of the text changed',
    );

    await vscode.window.showTextDocument(editor.document);
    await vscode.commands.executeCommand('undo');
    await waitFor('undo', () => (editor.document.getText() === original ? true : undefined), 5000);
    assert.strictEqual(editor.document.getText(), original);
  });

  it('offers "Set forget-gate bias to 1.0" on a low LSTM forget bias and the fix clears the finding', async () => {
    const extension = await api();
    const { editor, diagnostics } = await openAndWait('lstm-forget-bias.rnn.json', 'forget-bias-low');
    const low = diagnostics.find(
      (diagnostic) => codeOf(diagnostic) === 'forget-bias-low' && textAt(editor, diagnostic) === '"bias_ih_l0"',
    );
    assert.ok(
      low,
      `no forget-bias-low on "bias_ih_l0": ${diagnostics.map((diagnostic) => `${codeOf(diagnostic)}@${textAt(editor, diagnostic)}`).join(', ')}`,
    );
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>(
      'vscode.executeCodeActionProvider',
      editor.document.uri,
      low.range,
      vscode.CodeActionKind.QuickFix.value,
    );
    const fix = actions.find((action) => action.title.startsWith('Set forget-gate bias to 1.0'));
    assert.ok(fix?.edit, `no forget-bias fix among: ${actions.map((action) => action.title).join('; ')}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    await waitFor('the re-analysis without layer 0 forget-bias-low', () => {
      if (extension.isBusy(editor.document.uri)) return undefined;
      const now = ours(editor.document.uri);
      const stillLow = now.some(
        (diagnostic) => codeOf(diagnostic) === 'forget-bias-low' && textAt(editor, diagnostic) === '"bias_ih_l0"',
      );
      return now.length > 0 && !stillLow ? true : undefined;
    });
  });

  const wrongInputs: [string, string][] = [
    ['shape-mismatch.rnn.json', '"weight_ih_l0"'],
    ['unknown-key.rnn.json', '"learning_rate"'],
    ['non-finite-number.rnn.json', '1e999'],
  ];
  for (const [name, expected] of wrongInputs) {
    it(`marks wrong input in ${name} as an error on ${expected}`, async () => {
      const { editor, diagnostics } = await openAndWait(name, 'invalid-model');
      const errors = diagnostics.filter((diagnostic) => diagnostic.severity === vscode.DiagnosticSeverity.Error);
      assert.ok(errors.length >= 1);
      assert.ok(
        errors.some((diagnostic) => textAt(editor, diagnostic) === expected),
        `no error on ${expected}; got ${errors.map((diagnostic) => `${JSON.stringify(textAt(editor, diagnostic))}: ${diagnostic.message}`).join('; ')}`,
      );
      const extension = await api();
      await waitFor('the status bar', () => (/wrong input/.test(extension.statusText) ? true : undefined));
    });
  }

  it('Cancel stops a long analysis promptly and the next analysis runs', async () => {
    const extension = await api();
    const source = new vscode.CancellationTokenSource();
    const started = extension.analyze(fixture('long-run.rnn.json'), { token: source.token });
    const outcome = started.then(
      () => 'finished',
      (error: { reason?: string }) => error.reason ?? 'unknown',
    );
    await sleep(1500);
    const cancelledAt = Date.now();
    source.cancel();
    const reason = await outcome;
    assert.strictEqual(reason, 'cancelled', 'the long run was not cancelled (did it finish within 1.5 s?)');
    assert.ok(Date.now() - cancelledAt < 200, `rejection took ${Date.now() - cancelledAt} ms`);
    // The worker itself must stop too: a small analysis right after answers quickly.
    const uri = fixture('vanishing.rnn.json');
    const text = fs.readFileSync(uri.fsPath, 'utf8');
    const next = Date.now();
    const result = await extension.analyze({
      text,
      filePath: uri.fsPath,
      rootDir: path.dirname(uri.fsPath),
      displayPath: 'vanishing.rnn.json',
    });
    assert.strictEqual(result.ok, true);
    assert.ok(Date.now() - next < 5000, `the next analysis took ${Date.now() - next} ms`);
  });

  it('survives the worker being killed mid-run', async () => {
    const extension = await api();
    const longRun = extension.analyze(fixture('long-run.rnn.json')).then(
      () => 'finished',
      (error: { reason?: string }) => error.reason ?? 'unknown',
    );
    await sleep(1000);
    await extension.client.terminateWorker();
    assert.strictEqual(await longRun, 'worker-exit');
    const result = await extension.analyze(fixture('vanishing.rnn.json'));
    assert.strictEqual(result.ok, true, 'the analysis after the worker was killed failed');
  });

  it('ten quick edits yield one final, correct set of diagnostics', async () => {
    const extension = await api();
    const { editor } = await openAndWait('edits.rnn.json', 'vanishing-gradients');
    const uri = editor.document.uri;
    // Count changes of our diagnostics only (the JSON language service publishes its own on every edit).
    const snapshot = (): string =>
      JSON.stringify(ours(uri).map((diagnostic) => [codeOf(diagnostic), diagnostic.message, diagnostic.range]));
    let previous = snapshot();
    let changes = 0;
    const listener = vscode.languages.onDidChangeDiagnostics((event) => {
      if (!event.uris.some((changed) => changed.toString() === uri.toString())) return;
      const now = snapshot();
      if (now !== previous) changes++;
      previous = now;
    });
    try {
      const scales = [0.95, 1.0, 1.05, 1.1, 0.5, 0.7, 1.3, 0.9, 1.15, 1.2];
      for (const scale of scales) {
        const text = editor.document.getText();
        const start = text.indexOf('"weight_hh_l0": ') + '"weight_hh_l0": '.length;
        const end = text.indexOf(']]', start) + 2;
        const range = new vscode.Range(editor.document.positionAt(start), editor.document.positionAt(end));
        assert.ok(await editor.edit((builder) => builder.replace(range, `[[${scale}, 0.0], [0.0, ${scale}]]`)));
      }
      await sleep(400);
      const final = await waitFor('the final diagnostics', () => {
        if (extension.isBusy(uri)) return undefined;
        const found = ours(uri);
        return found.some((diagnostic) => codeOf(diagnostic) === 'exploding-gradients') ? found : undefined;
      });
      assert.ok(
        !final.some((diagnostic) => codeOf(diagnostic) === 'vanishing-gradients'),
        'a stale vanishing diagnostic survived',
      );
      assert.strictEqual(editor.document.getText(final[0].range), '"weight_hh_l0"');
      await sleep(1000);
      assert.ok(changes <= 2, `diagnostics changed ${changes} times for ten quick edits`);
      assert.deepStrictEqual(ours(uri).map(codeOf), final.map(codeOf));
    } finally {
      listener.dispose();
    }
  });
});
