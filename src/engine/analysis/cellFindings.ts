// The findings about what happens inside the cells (gates-and-timeline.md section 1): a closed LSTM forget gate,
// a saturated sigmoid gate, saturated units and dead units. Each names its figure, the threshold and a remedy;
// `data` carries the layer, direction, gate, the figure compared with the threshold (`figure`) and the threshold.
import { GATE_SPECS } from '../cellStats';
import type { Model } from '../model/types';
import { formatShare, formatShort } from '../report/format';
import type { Finding, GateName } from '../report/types';
import { layerTitle, nameSuffix } from '../report/layers';
import type { CellReport } from './cellReport';

/** An lstm forget gate whose mean activation is below this is closed. */
export const FORGET_CLOSED_BELOW = 0.2;
/** A sigmoid gate whose saturated_low + saturated_high is above this is saturated. */
export const GATE_SATURATED_ABOVE = 0.9;
/** Units whose saturated_share is above this are saturated. */
export const UNITS_SATURATED_ABOVE = 0.5;

/** The unit values a model's units are (for the messages). */
function unitWords(model: Model): string {
  if (model.cell === 'lstm') return 'o ⊙ tanh(c)';
  if (model.cell === 'rnn' && model.form === 'pascanu') return 'σ(x)';
  return 'h';
}

/** Lists at most `max` indices ("1, 4, 7 and 3 more"). */
function listIndices(indices: readonly number[], total: number, max = 8): string {
  const shown = indices.slice(0, max).join(', ');
  return total > max ? `${shown} and ${total - max} more` : shown;
}

/** The four cell findings of every layer and direction, in model.layers order. */
export function cellFindings(model: Model, cells: readonly CellReport[]): Finding[] {
  const out: Finding[] = [];
  const H = model.hiddenSize;
  model.layers.forEach((w, i) => {
    const cell = cells[i];
    const title = layerTitle(w.layer, w.direction);
    const suffix = nameSuffix(w.direction);
    const biasKey = `${w.omitted?.includes('biasIh') ? 'weight_ih' : 'bias_ih'}_l${w.layer}${suffix}`;
    const hhKey = `weight_hh_l${w.layer}${suffix}`;
    const where = { layer: w.layer, direction: w.direction };

    const forget = cell.gates.forget;
    if (model.cell === 'lstm' && forget && forget.mean !== null && forget.mean < FORGET_CLOSED_BELOW) {
      out.push({
        severity: 'warning',
        code: 'forget-gate-closed',
        message: `${title}: the forget gate's mean activation is ${formatShort(forget.mean)} (< ${FORGET_CLOSED_BELOW}): the cell state is erased every few steps, so the layer keeps no long memory. Set the forget-gate bias (rows ${H}…${2 * H - 1} of ${biasKey}) to 1 (Jozefowicz et al. 2015).`,
        path: ['weights', biasKey],
        data: { ...where, gate: 'forget', figure: forget.mean, mean: forget.mean, threshold: FORGET_CLOSED_BELOW },
      });
    }

    GATE_SPECS[model.cell].forEach((spec, g) => {
      if (spec.kind !== 'sigmoid') return;
      const gate = cell.gates[spec.name];
      if (!gate || gate.saturated_low === null || gate.saturated_high === null) return;
      const share = gate.saturated_low + gate.saturated_high;
      if (!(share > GATE_SATURATED_ABOVE)) return;
      const side = gate.saturated_low >= gate.saturated_high ? 'closed (< 0.05)' : 'open (> 0.95)';
      out.push({
        severity: 'info',
        code: 'gate-saturated',
        message: `${title}: the ${spec.name} gate is saturated in ${formatShare(share)} of unit-steps (${formatShare(gate.saturated_low)} below 0.05, ${formatShare(gate.saturated_high)} above 0.95; threshold ${formatShare(GATE_SATURATED_ABOVE)}), mostly ${side}: its derivative is nearly zero, so its weights hardly learn. Bring its bias (rows ${g * H}…${(g + 1) * H - 1} of ${biasKey}) nearer 0, lower the input scale, or use an orthogonal recurrent init.`,
        path: ['weights', biasKey],
        data: {
          ...where,
          gate: spec.name satisfies GateName,
          figure: share,
          saturated_low: gate.saturated_low,
          saturated_high: gate.saturated_high,
          threshold: GATE_SATURATED_ABOVE,
        },
      });
    });

    const units = cell.units;
    if (units.saturated_share !== null && units.saturated_share > UNITS_SATURATED_ABOVE) {
      const cut = model.cell === 'rnn' && model.nonlinearity === 'sigmoid' ? '> 0.95 or < 0.05' : '|value| > 0.95';
      out.push({
        severity: 'warning',
        code: 'units-saturated',
        message: `${title}: ${formatShare(units.saturated_share)} of unit-steps are saturated (${unitWords(model)}: ${cut}; threshold ${formatShare(UNITS_SATURATED_ABOVE)}): the nonlinearity's derivative is near 0 there, so gradients through these units vanish. Rescale ${hhKey} to a smaller σ_max (e.g. 1), use an orthogonal recurrent init, or lower the input scale.`,
        path: ['weights', hhKey],
        data: {
          ...where,
          figure: units.saturated_share,
          saturated_share: units.saturated_share,
          threshold: UNITS_SATURATED_ABOVE,
        },
      });
    }

    if (units.dead_units > 0) {
      const relu = model.cell === 'rnn' && model.nonlinearity === 'relu';
      const remedy = relu
        ? 'Switch the nonlinearity from relu to tanh, raise these units’ biases above 0, or use an identity or orthogonal init of the recurrent weights (Le et al. 2015).'
        : 'Their weights keep them at 0: re-initialise them (e.g. orthogonal recurrent init, non-zero input weights).';
      const indices = units.dead_unit_indices ?? [];
      out.push({
        severity: 'warning',
        code: 'dead-units',
        message: `${title}: ${units.dead_units} of ${H} units (${listIndices(indices, units.dead_units)}) are exactly 0 at every step of every sequence (threshold: any): they pass no gradient and never learn. ${remedy}`,
        path: ['weights', hhKey],
        data: { ...where, figure: units.dead_units, dead_units: units.dead_units, units: H, threshold: 0 },
      });
    }
  });
  return out;
}
