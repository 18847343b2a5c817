// The summary at the top of the panel: a card per layer (regime, rule, numbers) and the copyable clipping lines.
import type { Regime, Report } from '../../engine/report/types';
import { roundForConfig } from '../../engine/report/format';

/** What a layer card shows. */
export interface LayerCard {
  layer: number;
  regime: Regime;
  rule: string;
  facts: { label: string; value: number | null; log10?: boolean }[];
}

/** One card per layer: the regime, the sentence of the rule that fired, and the numbers behind it. */
export function layerCards(report: Report): LayerCard[] {
  return report.layers.map((l) => ({
    layer: l.layer,
    regime: l.regime,
    rule: l.evidence?.rule ?? 'The engine gave no rule for this verdict.',
    facts: [
      { label: 'log10 change per step', value: l.evidence?.log10_rate_per_step ?? null },
      {
        label: `norm ratio at lag ${l.evidence?.measured_lag ?? '—'}`,
        value: l.evidence?.log10_ratio ?? null,
        log10: true,
      },
      { label: 'σ_max', value: l.sigma_max },
    ],
  }));
}

/** A copyable line of training code. */
export interface ClipSnippet {
  id: string;
  label: string;
  text: string;
}

/** PyTorch and Keras lines for the recommended clip_norm and clip_value (values rounded to 4 digits). */
export function clipSnippets(report: Report): ClipSnippet[] {
  const rec = report.clipping.recommended;
  const out: ClipSnippet[] = [];
  if (rec.clip_norm !== null && Number.isFinite(rec.clip_norm)) {
    const x = roundForConfig(rec.clip_norm);
    out.push({
      id: 'torch-norm',
      label: 'PyTorch, clip by norm',
      text: `torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${x})`,
    });
    out.push({ id: 'keras-norm', label: 'Keras optimizer, clip by norm', text: `clipnorm=${x}` });
  }
  if (rec.clip_value !== null && Number.isFinite(rec.clip_value)) {
    const x = roundForConfig(rec.clip_value);
    out.push({
      id: 'torch-value',
      label: 'PyTorch, clip by value',
      text: `torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=${x})`,
    });
    out.push({ id: 'keras-value', label: 'Keras optimizer, clip by value', text: `clipvalue=${x}` });
  }
  return out;
}
