// The findings of a report, with their messages: overflow in the passes, lag figures beyond the double range,
// each layer's regime, and the file's settings (clip_norm, the LSTM forget-gate bias).
import type { Model } from '../model/types';
import { formatShort } from '../report/format';
import { MIN_FIT_LAGS, trendVerb, zeroSentence } from '../regime';
import type { Finding, LayerReport } from '../report/types';
import { layerTitle, nameSuffix } from '../report/layers';

/** Mean forget-gate bias below which an lstm layer gets a finding (Jozefowicz et al. 2015 use 1). */
const FORGET_BIAS_LOW = 0.5;

/** The forward pass of sequence b overflowed: in a layer's activations or (layer = numLayers) the loss. */
export function forwardOverflowFinding(model: Model, b: number, at: { layer: number; step: number }): Finding {
  const where = at.layer < model.numLayers ? `the activations of layer ${at.layer}` : 'the loss';
  return {
    severity: 'error',
    code: 'non-finite',
    message: `Overflow in the forward pass: ${where} of sequence ${b} became non-finite at step ${at.step}. Scale down the inputs or weight_hh, or clip activations.`,
    path: ['weights', `weight_hh_l${Math.min(at.layer, model.numLayers - 1)}`],
    data: { sequence: b, step: at.step },
  };
}

/** Backpropagating through sequence b, a layer's state gradient overflowed. */
export function backwardOverflowFinding(b: number, at: { layer: number; step: number }): Finding {
  return {
    severity: 'error',
    code: 'non-finite',
    message: `Gradient overflow: backpropagating through sequence ${b}, the gradient of layer ${at.layer}'s state became non-finite at step ${at.step}. Clip gradients (see the suggested clip_norm) or scale down weight_hh_l${at.layer}.`,
    path: ['weights', `weight_hh_l${at.layer}`],
    data: { sequence: b, step: at.step },
  };
}

/** Some state gradients of the lag table were not finite (they are left out of its statistics). */
export function lagNonFiniteFinding(): Finding {
  return {
    severity: 'warning',
    code: 'lag-non-finite',
    message: 'Some state gradients in the lag table were not finite and were left out of its statistics.',
    path: ['weights'],
  };
}

/** Lag figures above the double range are null in the report; say so and where. */
export function overflowFindings(layers: LayerReport[]): Finding[] {
  const out: Finding[] = [];
  for (const l of layers) {
    const first = l.lags.find((e) => e.mean === null || e.max === null || e.contribution_mean === null);
    if (!first) continue;
    out.push({
      severity: 'info',
      code: 'lag-overflow',
      message: `${layerTitle(l.layer, l.direction)}: from lag ${first.lag} on, gradient norms exceed the double range (up to 1e${Math.floor(
        Math.max(...l.lags.map((e) => e.log10_max ?? -Infinity)),
      )}); those figures are null and their log10_* fields carry the exact values.`,
      path: ['weights', `weight_hh_l${l.layer}${nameSuffix(l.direction)}`],
    });
  }
  return out;
}

/** A vanishing or exploding layer (the measured trend, Pascanu's condition, what to do), or one too short to tell. */
export function regimeFindings(model: Model, layers: LayerReport[], lagNonFinite = false): Finding[] {
  const out: Finding[] = [];
  for (const l of layers) {
    if (l.regime === 'stable' || !l.evidence) continue;
    if (l.regime === 'undetermined') {
      out.push(undeterminedFinding(l, lagNonFinite));
      continue;
    }
    const ev = l.evidence;
    const cond =
      l.gamma !== null
        ? `; σ_max(W_hh) = ${formatShort(l.sigma_max)} ${l.sigma_max < 1 / l.gamma ? '<' : '≥'} 1/γ = ${formatShort(1 / l.gamma)}`
        : `; σ_max(W_hh) = ${formatShort(l.sigma_max)}`;
    const cure =
      model.cell === 'rnn'
        ? 'consider a gated cell (LSTM or GRU), or an orthogonal or identity initialisation of W_hh'
        : model.cell === 'lstm'
          ? 'consider a forget-gate bias of 1.0 and fewer saturated gates'
          : 'consider update-gate biases that keep z near 1 (carry the state) and fewer saturated gates';
    const advice =
      l.regime === 'vanishing'
        ? ` Long-range dependencies will hardly be learned: ${cure}.`
        : ' Clip gradients by norm (see the suggested clip_norm) or reduce the spectral norm of W_hh.';
    out.push({
      severity: 'warning',
      code: l.regime === 'vanishing' ? 'vanishing-gradients' : 'exploding-gradients',
      message: `${layerTitle(l.layer, l.direction)}${ev.borderline ? ' (borderline)' : ''}: ${trendClause(l)}${cond}.${advice}`,
      path: ['weights', `weight_hh_l${l.layer}${nameSuffix(l.direction)}`],
      data: {
        layer: l.layer,
        direction: l.direction,
        log10_rate_per_step: ev.log10_rate_per_step,
        sigma_max: l.sigma_max,
        horizon_lag: ev.horizon?.lag ?? null,
      },
    });
  }
  return out;
}

/** What a vanishing or exploding layer's lags show: the rate and window, the zero or the horizon. */
function trendClause(l: LayerReport): string {
  const ev = l.evidence!;
  if (ev.zero_from_lag !== null)
    return zeroSentence(l.lags, ev.zero_from_lag).replace(/^The/, 'the').replace(/\.$/, '');
  const rate = ev.log10_rate_per_step ?? 0;
  const fit = ev.fit;
  const window = fit ? ` over lags ${fit.from_lag}–${fit.to_lag}` : '';
  const horizon = ev.horizon
    ? `; gradient horizon at lag ${ev.horizon.lag} (${ev.horizon.kind === 'decay' ? 'below 10⁻³ of' : 'above 10³ times'} its lag-0 value)`
    : '';
  const borderline = ev.borderline ? ', within 10% of the threshold' : '';
  return `the mean gradient norm ${trendVerb(rate)} ${formatShort(10 ** rate)}× per step${window} (log10 slope ${formatShort(rate)}${borderline})${horizon}`;
}

/** A layer with too few usable lags for the rule to measure a trend (short sequences, or lags lost to overflow). */
function undeterminedFinding(l: LayerReport, lagNonFinite: boolean): Finding {
  const usable = (l.evidence?.measured_lag ?? 0) + 1;
  const cause = lagNonFinite
    ? 'The sequences are too short, or the norms at longer lags were not finite (see lag-non-finite).'
    : 'The sequences are too short: analyze longer ones.';
  return {
    severity: 'info',
    code: 'trend-undetermined',
    message: `${layerTitle(l.layer, l.direction)}: too few lags to measure a gradient trend (${usable} usable; the regime rule needs ${MIN_FIT_LAGS}, each with at least a quarter of lag 0's pairs), so the regime is undetermined, not stable. ${cause}`,
    path: ['weights', `weight_hh_l${l.layer}${nameSuffix(l.direction)}`],
    data: { layer: l.layer, direction: l.direction },
  };
}

/** A clip_norm that never or always triggers, with the suggested one. */
export function clipFindings(model: Model, batchNorms: (number | null)[], suggested: number | null): Finding[] {
  const clip = model.training.clipNorm;
  const norms = batchNorms.filter((n): n is number => n !== null);
  if (clip === null || norms.length === 0 || suggested === null) return [];
  const max = Math.max(...norms);
  const min = Math.min(...norms);
  if (max <= clip) {
    return [
      {
        severity: 'info',
        code: 'clip-never-triggers',
        message: `training.clip_norm = ${formatShort(clip)} never triggers: the largest batch gradient norm is ${formatShort(max)}. Suggested clip_norm: ${formatShort(suggested)} (the mean batch norm).`,
        path: ['training', 'clip_norm'],
        data: { suggested },
      },
    ];
  }
  if (min > clip) {
    return [
      {
        severity: 'info',
        code: 'clip-always-triggers',
        message: `training.clip_norm = ${formatShort(clip)} rescales every batch: the smallest batch gradient norm is ${formatShort(min)}. Suggested clip_norm: ${formatShort(suggested)} (the mean batch norm).`,
        path: ['training', 'clip_norm'],
        data: { suggested },
      },
    ];
  }
  return [];
}

/**
 * The key a forget-bias-low finding sits on (README): `bias_ih_l{k}`; `bias_hh_l{k}` when bias_ih is omitted;
 * `weight_ih_l{k}` when both are (the biases are zeros then, and the quick fix adds `bias_ih_l{k}`).
 */
function forgetBiasKey(omitted: readonly string[]): string {
  if (!omitted.includes('biasIh')) return 'bias_ih';
  return omitted.includes('biasHh') ? 'weight_ih' : 'bias_hh';
}

/** LSTM layers whose forget-gate bias averages below FORGET_BIAS_LOW. */
export function forgetBiasFindings(model: Model): Finding[] {
  if (model.cell !== 'lstm') return [];
  const H = model.hiddenSize;
  const out: Finding[] = [];
  model.layers.forEach((w) => {
    let s = 0;
    for (let i = H; i < 2 * H; i++) s += w.biasIh[i] + w.biasHh[i];
    const mean = s / H;
    if (mean < FORGET_BIAS_LOW) {
      const suffix = nameSuffix(w.direction);
      out.push({
        severity: 'info',
        code: 'forget-bias-low',
        message: `${layerTitle(w.layer, w.direction)}: the forget-gate bias averages ${formatShort(mean)} (< ${FORGET_BIAS_LOW}); a bias of 1.0 helps the cell keep gradient signal over long lags (Jozefowicz et al. 2015).`,
        path: ['weights', `${forgetBiasKey(w.omitted ?? [])}_l${w.layer}${suffix}`],
        data: { layer: w.layer, direction: w.direction, mean },
      });
    }
  });
  return out;
}

/**
 * Findings about where the numbers come from: `synthetic-data` (info) when the model file gives no `data` (a
 * checkpoint analyzed directly), so the figures describe the weights on random inputs, not on the user's batch.
 */
export function sourceFindings(model: Model): Finding[] {
  if (!model.syntheticData) return [];
  const steps = model.sequences[0]?.length ?? 0;
  return [
    {
      severity: 'info',
      code: 'synthetic-data',
      message:
        `No data given: analyzed on ${model.sequences.length} synthetic sequences of ${steps} steps ` +
        '(standard normal inputs, seed 0) and the sum of the outputs as the loss. The figures describe how the ' +
        'weights carry gradients, not your training batch: add a data section (e.g. "data": {"inputs": "batch.npz#inputs"}) ' +
        'for that; "rnn-gradients init" writes a model file to fill in.',
      path: ['data'],
    },
  ];
}
