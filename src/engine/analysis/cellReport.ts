// Each layer's `gates` and `units` (gates-and-timeline.md section 1): the figures the first pass collected
// (cellStats.ts) and each gate's block of the weight_hh / weight_ih gradients of the report's `gradients`.
import type { CellStatsAccumulator, UnitFigures } from '../cellStats';
import type { LayerGrads } from '../cells/cell';
import type { Model } from '../model/types';
import type { GateName, GateReport, UnitsReport } from '../report/types';

/** One layer and direction's gate and unit figures in the report's shape. */
export interface CellReport {
  gates: Partial<Record<GateName, GateReport>>;
  units: UnitsReport;
  units_projected_h?: UnitsReport;
}

/**
 * The L2 norm of rows [from, to) of a row-major matrix with `cols` columns, scaled so that it neither under- nor
 * overflows; null when some entry is not finite.
 */
export function rowBlockNorm(values: Float64Array, cols: number, from: number, to: number): number | null {
  let scale = 0;
  for (let i = from * cols; i < to * cols; i++) {
    const a = Math.abs(values[i]);
    if (!Number.isFinite(a)) return null;
    if (a > scale) scale = a;
  }
  if (scale === 0) return 0;
  let s = 0;
  for (let i = from * cols; i < to * cols; i++) {
    const x = values[i] / scale;
    s += x * x;
  }
  const norm = scale * Math.sqrt(s);
  return Number.isFinite(norm) ? norm : null;
}

function unitsReport(u: UnitFigures): UnitsReport {
  return {
    saturated_share: u.saturatedShare,
    dead_units: u.deadUnits,
    mean_abs: u.meanAbs,
    dead_unit_indices: u.deadIndices,
    unit_steps: u.count,
    histogram: u.histogram,
  };
}

/** The gate and unit figures of every layer and direction, from the first pass's statistics and gradients. */
export function cellReports(model: Model, stats: CellStatsAccumulator[], grads: LayerGrads[]): CellReport[] {
  const H = model.hiddenSize;
  return model.layers.map((w, i): CellReport => {
    const gates: Partial<Record<GateName, GateReport>> = {};
    stats[i].gateFigures().forEach((g, gi) => {
      gates[g.name] = {
        mean: g.mean,
        saturated_low: g.saturatedLow,
        saturated_high: g.saturatedHigh,
        weight_hh_grad_norm: rowBlockNorm(grads[i].weightHh, w.weightHh.cols, gi * H, (gi + 1) * H),
        weight_ih_grad_norm: rowBlockNorm(grads[i].weightIh, w.weightIh.cols, gi * H, (gi + 1) * H),
        activation: g.kind,
        histogram: g.histogram,
      };
    });
    const projected = stats[i].projectedFigures();
    return {
      gates,
      units: unitsReport(stats[i].unitFigures()),
      ...(projected ? { units_projected_h: unitsReport(projected) } : {}),
    };
  });
}
