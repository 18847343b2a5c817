// Integration tests of long runs in the real extension host: the host's event loop stays responsive while the
// worker computes (measured with perf_hooks.monitorEventLoopDelay), and the report panel shows the partial report
// (short lags) before the full one, while diagnostics and the status bar wait for the final report.
import * as assert from 'assert';
import { monitorEventLoopDelay, type IntervalHistogram } from 'perf_hooks';
import * as vscode from 'vscode';
import { api, closeAll, fixture, ours, sleep, waitFor } from './helpers';
import { reporterLinePrefix } from './index';

/** Several seconds of analysis: one LSTM layer of 128 units, 2 sequences of 800 steps (init + data.generate). */
const longModel = 'responsiveness.rnn.json';
/** The same size (another seed), for the panel test. */
const panelModel = 'responsiveness-panel.rnn.json';
/**
 * The target (ms) for the 99th percentile of the extension host's event-loop delay during a long run. On a shared,
 * loaded machine the figure is noisy: the tests print it and fail only beyond a generous sanity bound, unless
 * RNN_GRADIENTS_STRICT_TIMING=1 asks for the target itself (docs/testing.md, "Speed targets", records the figures
 * measured that way).
 */
const delayTargetMs = 50;
const delaySanityMs = 500;
const delayBudgetMs = process.env.RNN_GRADIENTS_STRICT_TIMING === '1' ? delayTargetMs : delaySanityMs;
/**
 * The target for the command with the report panel open: that run also carries the workbench's own work in this host
 * (the panel's messages, the editor's and built-in extensions' events), measured at p99 30–55 ms on an idle 2-core
 * machine.
 */
const panelDelayTargetMs = 100;
const panelDelayBudgetMs = process.env.RNN_GRADIENTS_STRICT_TIMING === '1' ? panelDelayTargetMs : delaySanityMs;

/** A line in the launcher's output (it prints the suite's prefixed lines). */
function print(line: string): void {
  console.log(`${reporterLinePrefix}      ${line}`);
}

/** Event-loop delay figures in ms (the histogram records nanoseconds). */
interface DelayFigures {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

function figures(histogram: IntervalHistogram): DelayFigures {
  const ms = (ns: number): number => ns / 1e6;
  return {
    p50: ms(histogram.percentile(50)),
    p99: ms(histogram.percentile(99)),
    max: ms(histogram.max),
    samples: histogram.count,
  };
}

function describeDelay(label: string, delay: DelayFigures, durationMs: number): string {
  return (
    `event-loop delay (target p99 < ${delayTargetMs} ms): ${label}: p50 ${delay.p50.toFixed(1)} ms, p99 ${delay.p99.toFixed(1)} ms, max ${delay.max.toFixed(1)} ms ` +
    `(${delay.samples} samples, resolution 10 ms) over a ${(durationMs / 1000).toFixed(2)} s run`
  );
}

/**
 * Samples the extension host's event-loop delay while `work` runs. monitorEventLoopDelay's samples include its
 * own resolution (a timer every 10 ms), so an idle loop reads about 10 ms.
 */
async function measure<T>(work: () => Promise<T>): Promise<{ value: T; delay: DelayFigures; durationMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  const started = Date.now();
  try {
    const value = await work();
    const durationMs = Date.now() - started;
    histogram.disable();
    return { value, delay: figures(histogram), durationMs };
  } finally {
    histogram.disable();
  }
}

/** Our diagnostics of a document. */
describe('RNN Gradients long runs (responsiveness, partial reports, live panel)', function () {
  this.timeout(180000);

  afterEach(async () => {
    await vscode.workspace
      .getConfiguration('rnnGradients')
      .update('lagBudgetSeconds', undefined, vscode.ConfigurationTarget.Global);
    await closeAll();
  });

  it(`keeps the extension host's event loop responsive during a long analysis (p99 delay < ${delayBudgetMs} ms; target ${delayTargetMs} ms)`, async () => {
    const extension = await api();
    // The exact lag table (a user who sets the budget to 0): under the default budget the table is sampled.
    await vscode.workspace
      .getConfiguration('rnnGradients')
      .update('lagBudgetSeconds', 0, vscode.ConfigurationTarget.Global);
    // Warm up the worker (first start, kernels) so the run measures a long analysis, not the worker's start.
    const small = fixture('vanishing.rnn.json');
    assert.strictEqual((await extension.analyze(small)).ok, true);

    const uri = fixture(longModel);
    const { value: result, delay, durationMs } = await measure(() => extension.analyze(uri));
    print(describeDelay(`${longModel} through api.analyze`, delay, durationMs));
    assert.strictEqual(result.ok, true, 'the long analysis failed');
    assert.ok(result.ok && !result.report.partial, 'the result is a partial report');
    assert.ok(durationMs > 1500, `the "long" analysis took only ${durationMs} ms: make the fixture longer`);
    assert.ok(delay.samples > 50, `only ${delay.samples} event-loop samples were taken`);
    assert.ok(
      delay.p99 < delayBudgetMs,
      `event-loop delay p99 ${delay.p99.toFixed(1)} ms is not below ${delayBudgetMs} ms (max ${delay.max.toFixed(1)} ms)`,
    );
  });

  it('shows the partial report in the panel while the command runs; diagnostics and the status bar wait for the final report', async () => {
    const extension = await api();
    // Partial reports belong to exact lag tables: under the default lag budget this model's table is sampled
    // (one short run, no partial report), so the test asks for the exact table, as a user who sets the budget to 0.
    await vscode.workspace
      .getConfiguration('rnnGradients')
      .update('lagBudgetSeconds', 0, vscode.ConfigurationTarget.Global);
    // A model of its own: no earlier analysis has published diagnostics for it.
    const uri = fixture(panelModel);
    const document = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(document);
    assert.strictEqual(ours(uri).length, 0);
    let partialSeenAt = 0;
    let diagnosticsDuringPartial = -1;
    let statusDuringPartial = '';
    const run = measure(async () => {
      const command = vscode.commands.executeCommand<{ ok?: boolean } | undefined>('rnnGradients.analyze');
      const partial = await waitFor(
        'a partial report in the panel',
        () => {
          const shown = extension.panel.shownReport;
          return shown && shown.documentUri === uri.toString() && shown.partial ? shown : undefined;
        },
        120000,
      );
      partialSeenAt = Date.now();
      diagnosticsDuringPartial = ours(uri).length;
      statusDuringPartial = extension.statusText;
      assert.ok(partial.report.partial === true, 'the panel shows a partial report not marked partial');
      assert.ok(
        partial.report.max_lag !== null && partial.report.max_lag !== undefined && partial.report.max_lag < 799,
        'the partial report is not the short-lag one',
      );
      await extension.panel.whenRendered();
      return command;
    });
    const { value: result, delay, durationMs } = await run;
    print(describeDelay(`${panelModel} through the command, with the report panel`, delay, durationMs));
    assert.strictEqual(result?.ok, true, 'the command did not produce a report');
    assert.ok(partialSeenAt > 0);
    assert.ok(
      delay.p99 < panelDelayBudgetMs,
      `event-loop delay p99 ${delay.p99.toFixed(1)} ms is not below ${panelDelayBudgetMs} ms (max ${delay.max.toFixed(1)} ms)`,
    );
    assert.strictEqual(diagnosticsDuringPartial, 0, 'diagnostics were published from the partial report');
    assert.match(
      statusDuringPartial,
      /analyzing|sync~spin/,
      `the status bar showed "${statusDuringPartial}" while the analysis ran`,
    );
    const final = await waitFor('the final report in the panel', () => {
      const shown = extension.panel.shownReport;
      return shown && !shown.partial ? shown : undefined;
    });
    assert.strictEqual(final.report.partial, undefined);
    assert.strictEqual(final.report.layers[0].lags.length, 800, 'the final report lacks the long lags');
    const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(rendered && rendered.charts > 0, 'the panel did not render the final report');
    await waitFor('diagnostics from the final report', () => (ours(uri).length > 0 ? true : undefined));
    assert.doesNotMatch(extension.statusText, /analyzing|not analyzed/);
  });

  it('the command opens the panel, and an edit re-analyzes and updates it (a changed clip_norm shows up)', async () => {
    const extension = await api();
    const uri = fixture('panel-edits.rnn.json');
    const document = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(document);
    const result = await vscode.commands.executeCommand<{ ok?: boolean } | undefined>('rnnGradients.analyze');
    assert.strictEqual(result?.ok, true, 'the command did not produce a report');
    assert.strictEqual(extension.panel.currentDocument?.toString(), uri.toString());
    const first = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(first, 'the report panel did not render within 30 s');
    const before = extension.panel.shownReport;
    assert.ok(before && !before.partial);
    assert.strictEqual(before.currentClipNorm, 100);
    const clipFinding = (shown: typeof before): string[] =>
      shown.report.findings.filter((finding) => finding.code.startsWith('clip-')).map((finding) => finding.code);
    assert.deepStrictEqual(clipFinding(before), ['clip-never-triggers']);

    const text = editor.document.getText();
    const start = text.indexOf('"clip_norm": ') + '"clip_norm": '.length;
    const end = text.indexOf(',', start);
    assert.ok(start > 20 && end > start);
    const range = new vscode.Range(editor.document.positionAt(start), editor.document.positionAt(end));
    assert.ok(await editor.edit((builder) => builder.replace(range, '1e-9')));
    const after = await waitFor('the re-analysis in the panel', () => {
      const shown = extension.panel.shownReport;
      return shown && shown.seq > before.seq && !shown.partial && shown.currentClipNorm === 1e-9 ? shown : undefined;
    });
    assert.deepStrictEqual(clipFinding(after), ['clip-always-triggers'], 'the panel shows the old report');
    const rendered = await Promise.race([extension.panel.whenRendered(), sleep(30000).then(() => undefined)]);
    assert.ok(rendered, 'the panel did not render the re-analysis');
    assert.strictEqual(extension.panel.shownReport?.seq, after.seq);
  });
});
