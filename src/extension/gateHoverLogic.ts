// The hover on `bias_ih_l{k}` and `bias_ih_l{k}_reverse` keys (vscode-free, unit-tested): that layer and
// direction's gate means and saturated shares, and its units (gates-and-timeline.md section 1).
import type { Direction } from '../engine/model/types';
import { formatHoverNumber, formatShare } from '../engine/report/format';
import { layerLabel, nameSuffix } from '../engine/report/layers';
import type { LayerReport, Report, UnitsReport } from '../engine/report/types';

/** The layer and direction of a `bias_ih_l{k}` or `bias_ih_l{k}_reverse` key, or undefined. */
export function biasIhLayer(key: string): { layer: number; direction: Direction } | undefined {
  const match = /^bias_ih_l(\d+)(_reverse)?$/.exec(key);
  return match ? { layer: Number(match[1]), direction: match[2] ? 'reverse' : 'forward' } : undefined;
}

/** What a model's unit values are. */
function unitWords(report: Report): string {
  const m = report.model;
  if (m.cell === 'lstm') return 'o ⊙ tanh(c)';
  if (m.cell === 'rnn' && m.form === 'pascanu') return 'σ(x)';
  return 'h';
}

function unitsRow(label: string, u: UnitsReport, width: number): string {
  const mean = u.mean_abs === null ? '—' : formatHoverNumber(u.mean_abs);
  return `${label}: saturated ${formatShare(u.saturated_share)} of unit-steps, dead ${u.dead_units} of ${width}, mean |value| ${mean}`;
}

/**
 * Markdown of the hover on `bias_ih_l{k}` (or `_reverse`): a table of each gate's mean activation and saturated
 * shares, then the units. Undefined when the report has no such layer and direction or no gate statistics.
 */
export function gatesHover(report: Report, layerIndex: number, direction: Direction = 'forward'): string | undefined {
  const layer: LayerReport | undefined = report.layers.find(
    (entry) => entry.layer === layerIndex && (entry.direction ?? 'forward') === direction,
  );
  if (!layer || !layer.units) return undefined;
  const m = report.model;
  const lines: string[] = [];
  lines.push(`**bias_ih_l${layerIndex}${nameSuffix(direction)}** — ${m.cell} ${layerLabel(layerIndex, direction)}`);
  lines.push('');
  const gates = Object.entries(layer.gates ?? {});
  if (gates.length > 0) {
    lines.push('| gate | mean | saturated low | saturated high |');
    lines.push('|---|---|---|---|');
    for (const [name, g] of gates) {
      if (!g) continue;
      const lowCut = g.activation === 'tanh' || name === 'cell' || name === 'new' ? '< −0.95' : '< 0.05';
      lines.push(
        `| ${name} | ${g.mean === null ? '—' : formatHoverNumber(g.mean)} | ${formatShare(g.saturated_low)} (${lowCut}) | ${formatShare(g.saturated_high)} (> 0.95) |`,
      );
    }
    lines.push('');
    lines.push('Shares are of unit-steps (every unit at every real step of every sequence).');
  } else {
    lines.push('An rnn cell has no gates.');
  }
  lines.push('');
  lines.push(unitsRow(`Units (${unitWords(report)})`, layer.units, m.hidden_size));
  if (layer.units_projected_h) {
    lines.push('');
    lines.push(unitsRow('Projected h', layer.units_projected_h, m.proj_size));
  }
  return lines.join('\n');
}
