// The "Gates and units" section's model (gates-and-timeline.md section 1): per layer and direction, each gate's
// activation distribution (the report's 20-bin histogram as shares of unit-steps) with its saturated shares and
// mean, each gate's gradient-block norms (for the bar chart), and the units' counts; plus the rows of the
// accessible table. Pure: compiled into the webview and unit-tested.
import type { GateName, GateReport, LayerReport, Report, UnitsReport } from '../../engine/report/types';
import { layerLabel } from '../../engine/report/layers';

/** One gate of one layer and direction. */
export interface GateRow {
  /** "layer 0 input", "layer 1 (reverse) forget". */
  label: string;
  layer: number;
  direction: 'forward' | 'reverse';
  gate: GateName;
  activation: 'sigmoid' | 'tanh';
  mean: number | null;
  saturatedLow: number | null;
  saturatedHigh: number | null;
  /** The unsaturated rest: 1 − low − high (null with the shares). */
  unsaturated: number | null;
  /** The distribution over the activation's range: bin edges (bins + 1) and the share of unit-steps per bin. */
  edges: number[];
  shares: number[];
  /** The cut below which a unit-step counts as saturated low (0.05, or −0.95 for tanh gates); above: 0.95. */
  lowCut: number;
  weightHhGradNorm: number | null;
  weightIhGradNorm: number | null;
}

/** One layer and direction's units. */
export interface UnitsRow {
  label: string;
  layer: number;
  direction: 'forward' | 'reverse';
  /** What the units are ("h", "o ⊙ tanh(c)", "σ(x)", or "projected h"). */
  what: string;
  width: number;
  saturatedShare: number | null;
  deadUnits: number;
  deadIndices: number[];
  meanAbs: number | null;
}

export interface GatesChartModel {
  gates: GateRow[];
  units: UnitsRow[];
  /** Whether any layer has gates (rnn cells have none: the distribution and gradient charts are empty). */
  hasGates: boolean;
}

function unitWords(report: Report): string {
  const m = report.model;
  if (m.cell === 'lstm') return 'o ⊙ tanh(c)';
  if (m.cell === 'rnn' && m.form === 'pascanu') return 'σ(x)';
  return 'h';
}

function gateRow(l: LayerReport, gate: GateName, g: GateReport): GateRow {
  const activation = g.activation ?? (gate === 'cell' || gate === 'new' ? 'tanh' : 'sigmoid');
  const h = g.histogram;
  const total = h ? h.counts.reduce((a, b) => a + b, 0) : 0;
  const bins = h ? h.counts.length : 0;
  const edges = h ? Array.from({ length: bins + 1 }, (_, i) => h.lo + ((h.hi - h.lo) * i) / bins) : [];
  const shares = h ? h.counts.map((c) => (total > 0 ? c / total : 0)) : [];
  const low = g.saturated_low;
  const high = g.saturated_high;
  const direction = l.direction ?? 'forward';
  return {
    label: `${layerLabel(l.layer, direction)} ${gate}`,
    layer: l.layer,
    direction,
    gate,
    activation,
    mean: g.mean,
    saturatedLow: low,
    saturatedHigh: high,
    unsaturated: low === null || high === null ? null : Math.max(0, 1 - low - high),
    edges,
    shares,
    lowCut: activation === 'tanh' ? -0.95 : 0.05,
    weightHhGradNorm: g.weight_hh_grad_norm,
    weightIhGradNorm: g.weight_ih_grad_norm,
  };
}

function unitsRow(l: LayerReport, u: UnitsReport, what: string, width: number): UnitsRow {
  const direction = l.direction ?? 'forward';
  return {
    label: layerLabel(l.layer, direction),
    layer: l.layer,
    direction,
    what,
    width,
    saturatedShare: u.saturated_share,
    deadUnits: u.dead_units,
    deadIndices: u.dead_unit_indices ?? [],
    meanAbs: u.mean_abs,
  };
}

/** The section's model; empty lists for a report without gate and unit statistics. */
export function gatesChartModel(report: Report): GatesChartModel {
  const gates: GateRow[] = [];
  const units: UnitsRow[] = [];
  for (const l of report.layers) {
    for (const [name, g] of Object.entries(l.gates ?? {}) as [GateName, GateReport | undefined][])
      if (g) gates.push(gateRow(l, name, g));
    if (l.units) units.push(unitsRow(l, l.units, unitWords(report), report.model.hidden_size));
    if (l.units_projected_h) units.push(unitsRow(l, l.units_projected_h, 'projected h', report.model.proj_size));
  }
  return { gates, units, hasGates: gates.length > 0 };
}

/** The sentence under the section for one units row ("layer 0: 3 of 8 units dead (1, 4, 6); …"). */
export function unitsNote(u: UnitsRow, formatShare: (x: number | null) => string): string {
  const dead =
    u.deadUnits > 0 ? `${u.deadUnits} of ${u.width} units dead (${u.deadIndices.join(', ')})` : 'no dead units';
  return `${u.label} (${u.what}): ${dead}; ${formatShare(u.saturatedShare)} of unit-steps saturated.`;
}
