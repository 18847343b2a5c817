// Report-derived text for the editor face (vscode-free, unit-tested): regime summary, finding sections,
// clip suggestions and the weight_hh hover.
import type { Direction } from '../engine/model/types';
import type { FindingCode, LayerReport, Regime, Report } from '../engine/report/types';
import { describeOrigin, formatHoverNumber, formatHoverPow10 } from '../engine/report/format';
import { layerLabel, nameSuffix } from '../engine/report/layers';

/** Every finding code (a missing one fails to compile), each with a `### Finding: <code>` section in the README. */
const FINDING_CODE_SET: Record<FindingCode, true> = {
  'invalid-model': true,
  'non-finite': true,
  'exploding-gradients': true,
  'vanishing-gradients': true,
  'clip-never-triggers': true,
  'clip-always-triggers': true,
  'forget-bias-low': true,
  'lag-overflow': true,
  'lag-non-finite': true,
  'trend-undetermined': true,
  'forget-gate-closed': true,
  'gate-saturated': true,
  'units-saturated': true,
  'dead-units': true,
  'unsupported-source': true,
  'synthetic-data': true,
};
export const FINDING_CODES = Object.keys(FINDING_CODE_SET) as FindingCode[];

/**
 * The 1-based line of the README's section about a finding code (its `### Finding: <code>` heading), where a
 * diagnostic's code link opens the README shipped inside the extension; undefined when there is none.
 */
export function findingSectionLine(readme: string, code: string): number | undefined {
  const lines = readme.split(/\r?\n/);
  const at = lines.indexOf(`### Finding: ${code}`);
  return at < 0 ? undefined : at + 1;
}

const regimeRank: Record<Regime, number> = { exploding: 3, vanishing: 2, undetermined: 1, stable: 0 };

/** The worst layer of a report (exploding > vanishing > undetermined > stable; the lower layer on ties). */
export function worstLayer(report: Report): LayerReport | undefined {
  let worst: LayerReport | undefined;
  for (const layer of report.layers) {
    if (!worst || regimeRank[layer.regime] > regimeRank[worst.regime]) worst = layer;
  }
  return worst;
}

/** Codes whose quick fixes set a clipping threshold. */
export const clipFixCodes: ReadonlySet<string> = new Set([
  'clip-never-triggers',
  'clip-always-triggers',
  'exploding-gradients',
]);

/** The layer index of a `weight_hh_l{k}` key, or undefined. */
export function weightHhLayer(key: string): number | undefined {
  const match = /^weight_hh_l(\d+)(?:_reverse)?$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/** The direction a `weight_hh_l{k}` (forward) or `weight_hh_l{k}_reverse` key belongs to. */
export function weightHhDirection(key: string): Direction {
  return key.endsWith('_reverse') ? 'reverse' : 'forward';
}

const gateCount: Record<string, number> = { rnn: 1, lstm: 4, gru: 3 };

/**
 * Markdown of the hover on `weight_hh_l{k}` (or `weight_hh_l{k}_reverse`, the reverse direction of a bidirectional
 * layer): the verdict first (the regime and, in one sentence, what the mean gradient norm does), then each number
 * once in a table (horizon, fitted slope, σ_max, spectral radius, γ and Pascanu's condition), then, for a sampled
 * lag table, that its figures are estimates. Undefined when the report has no such layer and direction.
 */
export function weightHhHover(
  report: Report,
  layerIndex: number,
  direction: Direction = 'forward',
): string | undefined {
  const layer = report.layers.find(
    (entry) => entry.layer === layerIndex && (entry.direction ?? 'forward') === direction,
  );
  if (!layer) return undefined;
  const hidden = report.model.hidden_size;
  const rows = (gateCount[report.model.cell] ?? 1) * hidden;
  // With projections (LSTM proj_size P > 0) the recurrent input is the projected state: [4·H][P].
  const columns = report.model.proj_size > 0 ? report.model.proj_size : hidden;
  const evidence = layer.evidence;
  const lines: string[] = [];
  lines.push(
    `**weight_hh_l${layerIndex}${nameSuffix(direction)}** — ${report.model.cell} ${layerLabel(layerIndex, direction)}, shape [${rows}][${columns}]`,
  );
  lines.push('');
  lines.push(`Regime: **${regimeLabel(layer)}** — ${verdictSentence(layer)}`);
  lines.push('');
  lines.push(`| | |`);
  lines.push(`|---|---|`);
  lines.push(`| gradient horizon | ${horizonText(layer)} |`);
  if (evidence?.fit && evidence.log10_rate_per_step !== null) {
    lines.push(
      `| log10 slope per step | ${formatHoverNumber(evidence.log10_rate_per_step)}, fitted over lags ${evidence.fit.from_lag}–${evidence.fit.to_lag} |`,
    );
  }
  lines.push(`| σ_max (largest singular value) | ${formatHoverNumber(layer.sigma_max)} |`);
  if (layer.spectral_radius !== null) lines.push(`| spectral radius | ${formatHoverNumber(layer.spectral_radius)} |`);
  if (layer.gamma !== null && layer.gamma > 0) {
    lines.push(`| γ = sup σ′ | ${formatHoverNumber(layer.gamma)} |`);
    lines.push(`| Pascanu's condition | ${pascanuText(layer.sigma_max * layer.gamma)} |`);
  } else {
    lines.push(`| Pascanu's condition | plain rnn cells only; this regime is measured |`);
  }
  const sampling = report.lag_sampling;
  if (sampling) {
    const at = layer.lags[Math.min(evidence?.measured_lag ?? Infinity, layer.lags.length - 1)];
    const ci = at?.log10_mean_ci95;
    const interval =
      at && at.log10_mean !== null && ci && ci[0] !== null && ci[1] !== null
        ? ` Mean norm at lag ${at.lag}: ${formatHoverPow10(at.log10_mean)} ± ${formatHoverNumber((ci[1] - ci[0]) / 2)} in log10 (95% interval).`
        : '';
    lines.push('');
    lines.push(
      `*Estimated* from a sample of ${sampling.endpoints} loss terms in ${sampling.sequences} sequences (seed ${sampling.seed}); the gradients and clipping are exact.${interval}`,
    );
  }
  return lines.join('\n');
}

/**
 * What the mean gradient norm does, in one sentence with each figure once: "the mean gradient norm grows 1.49× per
 * step, to 128× its lag-0 value by lag 12."
 */
function verdictSentence(layer: LayerReport): string {
  const evidence = layer.evidence;
  if (evidence?.fit && evidence.log10_rate_per_step !== null) {
    const rate = evidence.log10_rate_per_step;
    const factor = formatHoverPow10(rate);
    const verb = factor === '1' ? 'stays level at' : rate < 0 ? 'falls' : 'grows';
    const to =
      evidence.log10_ratio !== null && evidence.measured_lag > 0
        ? `, to ${formatHoverPow10(evidence.log10_ratio)}× its lag-0 value by lag ${evidence.measured_lag}`
        : '';
    return `the mean gradient norm ${verb} ${factor}× per step${to}.`;
  }
  if (evidence && evidence.zero_from_lag !== null)
    return `the mean gradient norm is exactly zero from lag ${evidence.zero_from_lag}; there is no rate.`;
  if (layer.regime === 'undetermined') return 'too few lags to measure a trend.';
  return 'no rate was fitted.';
}

/** Pascanu's condition on σ_max·γ, with what it implies. */
function pascanuText(product: number): string {
  const x = formatHoverNumber(product);
  if (product < 1) return `σ_max·γ = ${x} < 1: sufficient for vanishing gradients`;
  if (product > 1) return `σ_max·γ = ${x} ≥ 1: necessary for exploding gradients (possible, not certain)`;
  return `σ_max·γ = 1: on the boundary`;
}

/** The regime as texts show it: "stable", or "stable (borderline)" within 10% of a threshold. */
export function regimeLabel(layer: LayerReport): string {
  return layer.evidence?.borderline ? `${layer.regime} (borderline)` : layer.regime;
}

/** The gradient horizon as a short phrase. */
function horizonText(layer: LayerReport): string {
  const h = layer.evidence?.horizon;
  if (h) return `lag ${h.lag} (${h.kind === 'decay' ? 'below 10⁻³ of' : 'above 10³ times'} its lag-0 value)`;
  const last = layer.lags.length ? layer.lags[layer.lags.length - 1].lag : 0;
  return `none up to lag ${last} (within 10⁻³…10³ of lag 0)`;
}

/**
 * The hover on the `weights` value of a checkpoint-backed model file: where the weights came from ("weights from
 * model.pt, module encoder"), then each layer's hover as on weight_hh_l{k}. Undefined for inline weights.
 */
export function checkpointHover(report: Report): string | undefined {
  const source = report.model.source;
  if (!source || source.format === 'json') return undefined;
  const parts = [`**${describeOrigin(source)}** (${source.format})`];
  for (const layer of report.layers) {
    const text = weightHhHover(report, layer.layer, layer.direction ?? 'forward');
    if (text) parts.push(text);
  }
  return parts.join('\n\n---\n\n');
}
