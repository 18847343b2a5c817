// A workspace without model files, the extension activated by the API (as by a command or a panel) with no model file
// and no JSONC file open: activate() starts the analysis worker ahead of need, the workspace search finds no model
// file, and the worker is ended again (extension.ts, AnalysisService.releaseUnusedWorker), for good: no fresh one is
// started in the background after it. A model file created later is still analyzed by the "Analyze RNN gradients"
// command, on a worker started for it.
//
// Observable (workerThreads.ts): the extension host's runtime and operating system, not the extension's objects: Node's
// report of each Worker started (its "worker_threads" diagnostics channel, the process 'worker' event) and the Worker's
// 'exit' event when its thread stopped, and where Node names its threads, the threads in /proc/self/task. The thread
// list alone, looked at right after activate() resolved, missed the new worker in one run of three (its threads still
// carried the name "MainThread": a new thread names itself once it runs). The extension's log line "stopping the
// analysis worker: no model file in the workspace" is written at debug level only (the channel's default level is
// info, so the log file has no such line) and would state the intent, not the thread's end; client.hasWorker is the
// extension's own account.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { AnalyzeResult } from '../../../../src/worker/protocol';
import { repoRoot, sleep, waitFor } from '../../helpers';
import { reporterLinePrefix } from '../../index';
import { noModelWorkspace, workerRecorderOfSuite } from '../workerThreads';

describe('a workspace without model files, the extension activated by the API', function () {
  this.timeout(120000);

  const startRecorder = workerRecorderOfSuite();

  it('ends the worker it started on activation once the search finds no model file; a later analysis starts one', async () => {
    const { extension, folder } = await noModelWorkspace();
    const jsonc = vscode.workspace.textDocuments.filter((d) => d.languageId === 'jsonc').map((d) => d.fileName);
    assert.deepStrictEqual(jsonc, [], 'a JSONC document is open before activation');
    const workers = await startRecorder();

    const origin = performance.now();
    await extension.activate();
    const activated = performance.now() - origin;
    // Where the runtime reports a new Worker only on the next tick (process 'worker'), that tick comes first.
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(workers.startedSince(origin) > 0, 'no worker started ahead of need on activation');
    await waitFor(
      'the worker started on activation to end (no model file in the workspace)',
      () => (workers.running === 0 ? true : undefined),
      30000,
      20,
    ).catch((error: unknown) => {
      throw new Error(`${error instanceof Error ? error.message : String(error)}: ${workers.describe(origin)}`);
    });
    console.log(
      `${reporterLinePrefix}      activate() resolved after ${Math.round(activated)} ms; ${workers.describe(origin)}` +
        ` (${workers.threadCheck})`,
    );
    workers.assertNoMoreThreads('after the unused worker ended');
    // Not restarted: a worker that ended is otherwise replaced after 200 ms (warmAgainMs in analysisService.ts).
    const ended = performance.now();
    await sleep(1500);
    assert.strictEqual(workers.startedSince(ended), 0, `a worker started again: ${workers.describe(origin)}`);

    // A model file created afterwards: the command analyzes it on a worker started for it.
    const model = vscode.Uri.file(path.join(folder.uri.fsPath, 'created-later.rnn.json'));
    fs.copyFileSync(path.join(repoRoot, 'test', 'fixtures', 'workspace', 'vanishing.rnn.json'), model.fsPath);
    const asked = performance.now();
    const result = await vscode.commands.executeCommand<AnalyzeResult | undefined>('rnnGradients.analyze', model);
    assert.ok(result, 'the command returned no result');
    assert.ok(result.ok, `the analysis failed: ${JSON.stringify(result).slice(0, 400)}`);
    assert.strictEqual(result.report.model.cell, 'rnn');
    assert.strictEqual(result.report.model.hidden_size, 4);
    assert.ok(
      workers.startedSince(asked) > 0 && workers.running > 0,
      `no worker for the analysis: ${workers.describe(origin)}`,
    );
  });
});
