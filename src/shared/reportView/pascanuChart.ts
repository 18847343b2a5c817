// The Pascanu chart's model: each layer's σ_max of W_hh (and spectral radius) against 1/γ, with the verdict of
// Pascanu's condition.
import type { Report } from '../../engine/report/types';
import { layerTitle } from '../../engine/report/layers';
import { formatNumber } from '../../engine/report/format';

/** One layer's spectra against the 1/γ line. */
export interface PascanuRow {
  layer: number;
  /** "Layer 0", "Layer 0 (reverse)". */
  label: string;
  sigmaMax: number;
  spectralRadius: number | null;
  gamma: number | null;
  /** 1/γ, the line σ_max is compared with; null when γ is null (lstm/gru) or 0. */
  threshold: number | null;
  /** σ_max·γ: below 1 the gradients provably vanish; above 1 they may explode. */
  bound: number | null;
  /**
   * The line drawn for a layer without 1/γ (lstm, gru): σ_max = 1, where W_hh alone neither stretches nor shrinks
   * its largest direction; a reference only, not a bound (see gatedExplanation). Null for rnn layers.
   */
  reference: number | null;
  verdict: string;
}

/** The reference line of gated layers (σ_max = 1). */
export const GATED_REFERENCE = 1;

/** How σ_max compares with 1, in words that agree with the figure as the panel prints it. */
function againstOne(sigma: number): string {
  const shown = formatNumber(sigma);
  if (shown === '1' || sigma === 1) return 'at 1';
  return sigma > 1 ? 'above 1' : 'below 1';
}

/**
 * Why a gated layer has no 1/γ line, for the text beside the chart: true for lstm and gru cells, and pointing to the
 * charts that do tell (gates, measured decay).
 */
export function gatedExplanation(cell: string): string {
  const path =
    cell === 'lstm'
      ? 'the gradient also flows through the cell state, scaled at each step by the forget gate, and every path through W_hh passes through the gates'
      : 'the update gate passes part of hₜ₋₁ on directly, and the reset and update gates scale the path through W_hh';
  return (
    `Pascanu's 1/γ bound is for rnn cells (hₜ = σ(W_hh hₜ₋₁ + …)). In a ${cell} cell the step Jacobian ` +
    `∂hₜ/∂hₜ₋₁ depends on the gates: ${path}. So σ_max(W_hh) alone does not decide whether gradients vanish or ` +
    'explode; the dashed line at σ_max = 1 is a reference only. The gates chart (“Gates and units”) shows how ' +
    'open the gates are, and the lag chart the decay actually measured.'
  );
}

/** Pascanu et al. (2013): σ_max < 1/γ is sufficient for vanishing; σ_max > 1/γ is necessary for exploding. */
export function pascanuRows(report: Report): PascanuRow[] {
  return report.layers.map((l) => {
    const threshold = l.gamma !== null && l.gamma > 0 ? 1 / l.gamma : null;
    const bound = l.gamma !== null ? l.sigma_max * l.gamma : null;
    let verdict: string;
    const gated = l.gamma === null;
    if (threshold === null)
      verdict = gated
        ? `σ_max(W_hh) = ${formatNumber(l.sigma_max)}, ${againstOne(l.sigma_max)}; no 1/γ bound for a ${report.model.cell} layer (see below).`
        : `γ = ${formatNumber(l.gamma)}: no 1/γ line, only σ_max is shown.`;
    else if (l.sigma_max < threshold)
      verdict = `σ_max·γ = ${bound?.toPrecision(3)} < 1: long-range gradients must vanish.`;
    else
      verdict = `σ_max·γ = ${bound?.toPrecision(3)} ≥ 1: exploding gradients are possible (necessary condition met).`;
    return {
      layer: l.layer,
      label: layerTitle(l.layer, l.direction),
      sigmaMax: l.sigma_max,
      spectralRadius: l.spectral_radius,
      gamma: l.gamma,
      threshold,
      bound,
      reference: gated ? GATED_REFERENCE : null,
      verdict,
    };
  });
}
