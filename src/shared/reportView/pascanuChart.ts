// The Pascanu chart's model: each layer's σ_max of W_hh (and spectral radius) against 1/γ, with the verdict of
// Pascanu's condition.
import type { Report } from '../../engine/report/types';
import { layerTitle } from '../../engine/report/layers';

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
  verdict: string;
}

/** Pascanu et al. (2013): σ_max < 1/γ is sufficient for vanishing; σ_max > 1/γ is necessary for exploding. */
export function pascanuRows(report: Report): PascanuRow[] {
  return report.layers.map((l) => {
    const threshold = l.gamma !== null && l.gamma > 0 ? 1 / l.gamma : null;
    const bound = l.gamma !== null ? l.sigma_max * l.gamma : null;
    let verdict: string;
    if (threshold === null)
      verdict = `Pascanu's condition is for rnn cells; this is a ${report.model.cell} layer, so only σ_max is shown.`;
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
      verdict,
    };
  });
}
