// The whole analysis of a validated model -> Report: a work plan, the first pass over the batches (loss,
// gradients, findings and the lag table, or its short lags on a long run), the spectra, the full lag table
// (long runs), and the report. The steps live in analysis/.
import { heatmapReports } from './heatmap';
import type { Model } from './model/types';
import type { Report } from './report/types';
import { runBatchPass } from './analysis/batchPass';
import { mergeOtherThreads, runFullLagPass } from './analysis/lagPass';
import type { AnalyzeOptions } from './analysis/options';
import { planAnalysis, type AnalysisPlan } from './analysis/plan';
import { AnalysisProgress } from './analysis/progress';
import { layerSpectra, ReportBuilder } from './analysis/reportBuilder';

export type { AnalyzeOptions } from './analysis/options';

/** Analyzes a validated model. Throws CancelledError when cancelled; never returns NaN in the report. */
export function analyzeModel(model: Model, options: AnalyzeOptions): Report {
  try {
    return analyze(model, options);
  } catch (e) {
    options.lagSplit?.abort();
    throw e;
  }
}

function analyze(model: Model, options: AnalyzeOptions): Report {
  const started = Date.now();
  const plan = planAnalysis(model, options);
  if (plan.split) plan.split.splitter.start(plan.split.jobs);
  const progress = new AnalysisProgress(options, plan);
  const spectraCheck = (): void => progress.check(0, 'spectra');
  // The spectra need only the weights. A one-pass split run shares them as tasks (spectraTasks.ts): a lag thread
  // takes them while this one runs its forward and backward passes. Otherwise they come first.
  const early = plan.spectra ? null : layerSpectra(model, spectraCheck);
  const batches = runBatchPass(model, plan, progress);
  plan.spectra?.runAll(spectraCheck);
  let lagNonFinite = batches.lagNonFinite;
  if (!plan.twoPass) lagNonFinite = mergeOtherThreads(plan, batches.merger, progress, 'lags') || lagNonFinite;
  const spectra = early ?? plan.spectra!.results(spectraCheck);
  if (!plan.twoPass && !batches.sampled) reportTiming(options, progress);
  const reports = new ReportBuilder(model, {
    file: options.file,
    started,
    thresholds: plan.thresholds,
    spectra,
    batches,
    lagNonFinite,
    gradientValues: options.gradientValues ?? false,
  });
  if (batches.sampled) {
    return withHeatmaps(model, reports.build(batches.sampled, options.maxLag ?? null, false, plan.sample), plan);
  }
  if (!plan.twoPass) return withHeatmaps(model, reports.build(batches.lagStats, options.maxLag ?? null, false), plan);
  options.onProgress?.(progress.fraction(), 'short lags done', reports.build(batches.lagStats, plan.firstLag, true));
  const { stats: fullStats, merger } = runFullLagPass(model, plan, progress);
  mergeOtherThreads(plan, merger, progress, 'lags');
  reportTiming(options, progress);
  return withHeatmaps(model, reports.build(fullStats, options.maxLag ?? null, false), plan);
}

/** Hands the full table's recursion timing to the caller that asked for it. */
function reportTiming(options: AnalyzeOptions, progress: AnalysisProgress): void {
  const timing = progress.clock.timing();
  if (timing) options.onLagTiming?.(timing);
}

/** Adds the (t, j) maps to the final report when the run collected them. */
function withHeatmaps(model: Model, report: Report, plan: AnalysisPlan): Report {
  if (plan.heatmap) report.heatmaps = heatmapReports(model, plan.heatmap.collector, plan.heatmap.request.sequence);
  return report;
}
