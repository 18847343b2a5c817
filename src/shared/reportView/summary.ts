// The summary at the top of the panel: a card per layer (regime, rule, numbers) and the copyable clipping lines.
import type { Regime, Report } from '../../engine/report/types';
import { roundThreshold } from '../../engine/report/format';
import { layerTitle } from '../../engine/report/layers';
import type { Direction } from '../../engine/model/types';

/** One fact of a layer card: a number (plain or given as its log10), or a short text. */
export interface CardFact {
  label: string;
  value: number | null;
  log10?: boolean;
  text?: string;
}

/** What a layer card shows. */
export interface LayerCard {
  layer: number;
  direction: Direction;
  /** "Layer 0", or "Layer 0 (reverse)" for a bidirectional layer's reverse direction. */
  title: string;
  regime: Regime;
  /** The regime as shown: "stable", or "stable (borderline)" within 10% of a threshold. */
  label: string;
  borderline: boolean;
  rule: string;
  facts: CardFact[];
}

/** One card per layer: the regime, the sentence of the rule that fired, and the numbers behind it. */
export function layerCards(report: Report): LayerCard[] {
  return report.layers.map((l) => {
    const ev = l.evidence;
    const borderline = ev?.borderline === true;
    const rate: CardFact = { label: 'log10 change per step', value: ev?.log10_rate_per_step ?? null };
    if (ev && ev.log10_rate_per_step === null)
      rate.text =
        ev.zero_from_lag !== null ? `none: exactly zero from lag ${ev.zero_from_lag}` : 'none: too few lags to measure';
    return {
      layer: l.layer,
      direction: l.direction ?? 'forward',
      title: layerTitle(l.layer, l.direction),
      regime: l.regime,
      label: borderline ? `${l.regime} (borderline)` : l.regime,
      borderline,
      rule: ev?.rule ?? 'The engine gave no rule for this verdict.',
      facts: [
        rate,
        {
          label: `norm ratio at lag ${ev?.measured_lag ?? '—'}`,
          value: ev?.log10_ratio ?? null,
          log10: true,
        },
        { label: 'gradient horizon', value: ev?.horizon?.lag ?? null, text: horizonFact(l) },
        { label: 'σ_max', value: l.sigma_max },
      ],
    };
  });
}

/** The horizon as a card shows it: "lag 12 (below 10⁻³ of lag 0)", or "none up to lag N". */
function horizonFact(l: Report['layers'][number]): string {
  const h = l.evidence?.horizon;
  if (h) return `lag ${h.lag} (${h.kind === 'decay' ? 'below 10⁻³ of' : 'above 10³ times'} lag 0)`;
  const last = l.lags.length ? l.lags[l.lags.length - 1].lag : 0;
  return `none up to lag ${last}`;
}

/** A copyable line of training code. */
export interface ClipSnippet {
  id: string;
  label: string;
  text: string;
}

/** PyTorch and Keras lines for the recommended clip_norm and clip_value (values rounded as roundThreshold rounds them). */
export function clipSnippets(report: Report): ClipSnippet[] {
  const rec = report.clipping.recommended;
  const out: ClipSnippet[] = [];
  if (rec.clip_norm !== null && Number.isFinite(rec.clip_norm)) {
    const x = roundThreshold(rec.clip_norm);
    out.push({
      id: 'torch-norm',
      label: 'PyTorch, clip by norm',
      text: `torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${x})`,
    });
    out.push({ id: 'keras-norm', label: 'Keras optimizer, clip by norm', text: `clipnorm=${x}` });
  }
  if (rec.clip_value !== null && Number.isFinite(rec.clip_value)) {
    const x = roundThreshold(rec.clip_value);
    out.push({
      id: 'torch-value',
      label: 'PyTorch, clip by value',
      text: `torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=${x})`,
    });
    out.push({ id: 'keras-value', label: 'Keras optimizer, clip by value', text: `clipvalue=${x}` });
  }
  return out;
}
