// A workspace without model files, the extension activated because a JSONC file of another tool was opened
// (onLanguage:jsonc, as a tsconfig.json or a settings file does): nothing says a model file is coming, so no analysis
// worker is started ahead of need (extension.ts: warmNow only when a model file is open or no other JSONC file
// explains the activation), neither on activation nor while the workspace search runs. An analysis asked for later
// (the API's analyze of a model file created afterwards) still works, on a worker started for it.
//
// Observable (workerThreads.ts): the extension host's runtime, not the extension's objects: Node's report of every
// Worker started (its "worker_threads" diagnostics channel, the process 'worker' event), recorded from before the file
// opens until 3 s after activation, so that even a worker started and ended within that time counts (a look at the
// thread list now and then could miss it); where Node names its threads, /proc/self/task confirms none is left. The
// extension logs nothing when it starts no worker (its "starting the analysis worker" line is at debug level, not
// written at the channel's default level), and client.hasWorker is the extension's own account.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { repoRoot, sleep, waitFor } from '../../helpers';
import { noModelWorkspace, workerRecorderOfSuite } from '../workerThreads';

/** How long after activation workers are watched for: the workspace search took 0.1–1.4 s on a busy machine. */
const watchAfterActivationMs = 3000;

describe('a workspace without model files, the extension activated by a JSONC file', function () {
  this.timeout(120000);

  const startRecorder = workerRecorderOfSuite();

  it('starts no worker ahead of need; an analysis asked for later starts one', async () => {
    const { extension, folder } = await noModelWorkspace();
    const workers = await startRecorder();

    const origin = performance.now();
    const document = await vscode.workspace.openTextDocument(
      vscode.Uri.file(path.join(folder.uri.fsPath, 'tool-settings.jsonc')),
    );
    assert.strictEqual(document.languageId, 'jsonc');
    await vscode.window.showTextDocument(document);
    await waitFor(
      'the extension to activate on the JSONC file',
      () => (extension.isActive ? true : undefined),
      30000,
      5,
    );
    await sleep(watchAfterActivationMs);
    assert.strictEqual(workers.startedSince(origin), 0, `a worker started: ${workers.describe(origin)}`);
    workers.assertNoMoreThreads('after the activation by a JSONC file');

    // A model file created afterwards: the API analyzes it on a worker started for it.
    const model = vscode.Uri.file(path.join(folder.uri.fsPath, 'created-later.rnn.json'));
    fs.copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'workspace', 'vanishing.rnn.json'), model.fsPath);
    const asked = performance.now();
    const result = await extension.exports.analyze(model);
    assert.ok(result.ok, `the analysis failed: ${JSON.stringify(result).slice(0, 400)}`);
    assert.strictEqual(result.report.model.cell, 'rnn');
    assert.ok(
      workers.startedSince(asked) > 0 && workers.running > 0,
      `no worker for the analysis: ${workers.describe(origin)}`,
    );
  });
});
