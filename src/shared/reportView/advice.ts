// The advice cards at the top of the panel, in the order that applies to this report: the remedy for vanishing
// gradients first when a layer vanishes, clipping first when one explodes, and for a healthy model a plain "nothing
// to change" before the (optional) clipping settings.
import type { Report } from '../../engine/report/types';
import type { Direction } from '../../engine/model/types';
import { layerLabel } from '../../engine/report/layers';

/** An edit the panel can ask the host to make in the model file (the same edits as the editor's quick fixes). */
export type RemedyAction =
  /** Set the LSTM forget-gate bias of a layer to 1.0 (the forget-gate quick fix's edit). */
  | { kind: 'forgetBias'; layer: number; direction: Direction }
  /** Multiply the inline weight_hh of a layer so that its σ_max becomes `target` (the rescale quick fix's edit). */
  | { kind: 'rescale'; layer: number; direction: Direction; target: number };

/** One line of advice, with a button when the model file can express it. */
export interface AdviceItem {
  text: string;
  action?: { title: string; remedy: RemedyAction };
  /** A key of the model file to jump to (when there is no edit to offer). */
  reveal?: { title: string; path: string[] };
}

/** One card: which advice it is, its heading, and its lines. The clipping card's content is drawn by the panel. */
export interface AdviceCard {
  id: 'vanishing' | 'exploding-remedy' | 'clipping' | 'healthy';
  title: string;
  items: AdviceItem[];
  /** Shown folded (a healthy model's optional clipping): available, but not a call to action. */
  collapsed?: boolean;
}

function suffix(direction: Direction | undefined): string {
  return direction === 'reverse' ? '_reverse' : '';
}

/** A σ_max as a button writes it (3 significant digits). */
function fmt(x: number): string {
  return String(Number(x.toPrecision(3)));
}

/** The remedies for the vanishing layers: a gated cell, orthogonal/rescaled W_hh, the forget-gate bias. */
function vanishingCard(report: Report): AdviceCard {
  const vanishing = report.layers.filter((l) => l.regime === 'vanishing');
  const cell = report.model.cell;
  const fromCheckpoint = report.model.source !== undefined && report.model.source.format !== 'json';
  const items: AdviceItem[] = [];
  if (cell === 'rnn') {
    items.push({
      text: 'Use a gated cell (LSTM or GRU): its additive cell path carries the gradient across many steps where a plain rnn multiplies it by W_hh·σ′ at every step.',
      reveal: { title: 'Show "cell" in the file', path: ['cell'] },
    });
  }
  for (const l of vanishing) {
    const key = `weight_hh_l${l.layer}${suffix(l.direction)}`;
    // Pascanu's bound: σ_max < 1/γ makes long-range gradients vanish; an rnn's W_hh rescaled to σ_max = 1/γ sits on the
    // edge. Gated cells have no such bound: an orthogonal W_hh (σ_max 1) keeps the recurrent product norm-preserving.
    const target = cell === 'rnn' && l.gamma !== null && l.gamma > 0 ? 1 / l.gamma : 1;
    const text =
      cell === 'rnn'
        ? `Initialize ${key} orthogonally (scaled to σ_max 1/γ = ${fmt(target)}; now ${fmt(l.sigma_max)}): below 1/γ long-range gradients must vanish.`
        : `Initialize ${key} orthogonally (σ_max ${fmt(target)}; now ${fmt(l.sigma_max)}).`;
    const item: AdviceItem = { text };
    if (!fromCheckpoint && l.sigma_max > 0 && Math.abs(l.sigma_max - target) > 1e-3 * target) {
      item.action = {
        title: `Rescale ${key} to σ_max ${fmt(target)} (now ${fmt(l.sigma_max)})`,
        remedy: { kind: 'rescale', layer: l.layer, direction: l.direction ?? 'forward', target },
      };
    }
    items.push(item);
  }
  if (cell === 'lstm') {
    for (const l of vanishing) {
      const label = layerLabel(l.layer, l.direction);
      items.push({
        text: `Set the forget-gate bias of ${label} to 1.0, so the forget gate starts open and the cell keeps its memory (and its gradient).`,
        ...(fromCheckpoint
          ? {}
          : {
              action: {
                title: `Set forget-gate bias to 1.0 (${label})`,
                remedy: { kind: 'forgetBias', layer: l.layer, direction: l.direction ?? 'forward' } as RemedyAction,
              },
            }),
      });
    }
  }
  if (cell === 'gru')
    items.push({
      text: 'A GRU whose update gate stays near 1 copies its state and keeps the gradient: a positive update-gate bias (bias_ih rows H…2H) does that at the start of training.',
    });
  return { id: 'vanishing', title: 'Remedy for vanishing gradients', items };
}

/** Whether the report has nothing to act on: every layer stable (or undetermined) and no warning or error. */
export function isHealthy(report: Report): boolean {
  return (
    report.layers.every((l) => l.regime === 'stable') &&
    !report.findings.some((f) => f.severity === 'warning' || f.severity === 'error')
  );
}

/**
 * The advice cards in the order that applies: exploding → clipping first; vanishing → its remedy first, clipping
 * after; healthy → "nothing to change", clipping after; otherwise clipping alone.
 */
export function adviceCards(report: Report): AdviceCard[] {
  const clipping: AdviceCard = { id: 'clipping', title: 'Recommended clipping', items: [] };
  const exploding = report.layers.some((l) => l.regime === 'exploding');
  const vanishing = report.layers.some((l) => l.regime === 'vanishing');
  if (exploding) return vanishing ? [clipping, vanishingCard(report)] : [clipping];
  if (vanishing) return [vanishingCard(report), { ...clipping, title: 'Clipping (if you train with it)' }];
  if (isHealthy(report))
    return [
      {
        id: 'healthy',
        title: 'Nothing to change',
        items: [
          {
            text: 'Every layer is stable and there are no findings: the gradients neither vanish nor explode over the measured lags. Clipping is optional.',
          },
        ],
      },
      { ...clipping, title: 'Clipping (optional)', collapsed: true },
    ];
  return [clipping];
}
