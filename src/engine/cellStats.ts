// Gate and unit statistics of one layer and direction (gates-and-timeline.md section 1), collected from the
// forward pass the analysis already runs: each sequence's trace is handed to its layer's accumulator, which
// reads the activated gates and the unit values the cell kept (Cell.statsView) and adds counts and sums.
//
// - Gates (lstm i, f, g, o; gru r, z, n): the mean activation, the shares of unit-steps below the low cut
//   (< 0.05 for a sigmoid gate, < −0.95 for a tanh gate) and above 0.95, and a fixed-bin histogram.
// - Units: h_t (elman rnn, gru), m_t = o ⊙ tanh(c_t) for lstm (the H values before W_hr; with projections
//   the P-wide h_t is a second reading, `units_projected_h`), σ(x_t) for the pascanu form. The saturated
//   share (|value| > 0.95; > 0.95 or < 0.05 for a sigmoid rnn; none for relu and linear), the units that are
//   exactly 0 at every step of every sequence, and the mean |value|.
//
// Only real steps ever reach a trace (sequences are cut to data.lengths before the engine sees them), so
// padding never counts. Cuts are strict. Sums are compensated (Neumaier), so the means stay exact to the last
// bits over millions of unit-steps.
import type { CellType, Model } from './model/types';
import type { GateName, HistogramReport } from './report/types';

/** A gate and its activation: sigmoid gates lie in (0, 1), tanh gates in (−1, 1). */
export interface GateSpec {
  readonly name: GateName;
  readonly kind: 'sigmoid' | 'tanh';
}

/** The gates of each cell, in the order of their blocks of weight rows (block g is rows g·H … (g+1)·H − 1). */
export const GATE_SPECS: Record<CellType, readonly GateSpec[]> = {
  rnn: [],
  lstm: [
    { name: 'input', kind: 'sigmoid' },
    { name: 'forget', kind: 'sigmoid' },
    { name: 'cell', kind: 'tanh' },
    { name: 'output', kind: 'sigmoid' },
  ],
  gru: [
    { name: 'reset', kind: 'sigmoid' },
    { name: 'update', kind: 'sigmoid' },
    { name: 'new', kind: 'tanh' },
  ],
};

/** The saturation cuts of the spec. */
export const SAT_LOW = 0.05;
export const SAT_HIGH = 0.95;

/** Bins of every histogram in the report. */
export const HISTOGRAM_BINS = 20;

/**
 * How a unit counts as saturated: `abs` |value| > 0.95 (lstm, gru, tanh rnn), `sigmoid` value > 0.95 or
 * < 0.05 (sigmoid rnn), `never` (relu and linear rnn: unbounded, never saturated).
 */
export type UnitSaturation = 'abs' | 'sigmoid' | 'never';

/** The unit saturation rule of a model's cell. */
export function unitSaturationOf(model: Pick<Model, 'cell' | 'nonlinearity'>): UnitSaturation {
  if (model.cell !== 'rnn') return 'abs';
  switch (model.nonlinearity) {
    case 'tanh':
      return 'abs';
    case 'sigmoid':
      return 'sigmoid';
    case 'relu':
    case 'linear':
      return 'never';
  }
}

/** Where one sequence's trace keeps the gate activations and the unit values (all T × width, row-major). */
export interface StatsView {
  /** Activated gates: step t, gate g, unit k at t·gateStride + g·H + k; null for an rnn cell. */
  gates: Float64Array | null;
  gateStride: number;
  /** The H unit values of each step. */
  units: Float64Array;
  /** LSTM with projections: the P-wide h_t of each step (the second reading of the units), else null. */
  projected: Float64Array | null;
}

/** A gate's figures, before its gradient norms are added. */
export interface GateFigures {
  name: GateName;
  kind: 'sigmoid' | 'tanh';
  /** null when no unit-step was counted (every sequence overflowed). */
  mean: number | null;
  saturatedLow: number | null;
  saturatedHigh: number | null;
  histogram: HistogramReport;
}

/** The units' figures. */
export interface UnitFigures {
  saturatedShare: number | null;
  deadUnits: number;
  /** The dead units' indices, ascending (at most MAX_DEAD_INDICES of them). */
  deadIndices: number[];
  meanAbs: number | null;
  /** Unit-steps counted: H (or P) × the real steps of every sequence whose forward pass stayed finite. */
  count: number;
  /** Over the unit range (−1…1, or 0…1 for a sigmoid rnn); null for unbounded units (relu, linear, W_hr m_t). */
  histogram: HistogramReport | null;
}

/** Most dead-unit indices listed in the report. */
export const MAX_DEAD_INDICES = 64;

/** A compensated sum (Neumaier). */
class Sum {
  private s = 0;
  private c = 0;
  add(x: number): void {
    const t = this.s + x;
    if (Math.abs(this.s) >= Math.abs(x)) this.c += this.s - t + x;
    else this.c += x - t + this.s;
    this.s = t;
  }
  get value(): number {
    return this.s + this.c;
  }
}

/** Counts of one gate or one unit reading. */
class ValueCounts {
  readonly sum = new Sum();
  low = 0;
  high = 0;
  count = 0;
  readonly bins = new Float64Array(HISTOGRAM_BINS);

  constructor(
    readonly lo: number,
    readonly hi: number,
  ) {}

  /** Adds the histogram bin of v (v in [lo, hi]; outside values go to the end bins). */
  bin(v: number): void {
    let i = Math.floor(((v - this.lo) / (this.hi - this.lo)) * HISTOGRAM_BINS);
    if (i < 0 || Number.isNaN(i)) i = 0;
    else if (i >= HISTOGRAM_BINS) i = HISTOGRAM_BINS - 1;
    this.bins[i] += 1;
  }

  histogram(): HistogramReport {
    return { lo: this.lo, hi: this.hi, counts: Array.from(this.bins) };
  }

  /** Adds another accumulator's counts. */
  merge(other: ValueCounts): void {
    this.sum.add(other.sum.value);
    this.low += other.low;
    this.high += other.high;
    this.count += other.count;
    for (let i = 0; i < HISTOGRAM_BINS; i++) this.bins[i] += other.bins[i];
  }

  share(n: number): number | null {
    return this.count > 0 ? n / this.count : null;
  }
}

/** Unit readings: value counts plus, per unit, whether it was ever non-zero. */
class UnitCounts extends ValueCounts {
  readonly alive: Uint8Array;
  constructor(
    width: number,
    readonly saturation: UnitSaturation,
    readonly bounded: boolean,
  ) {
    super(saturation === 'sigmoid' ? 0 : -1, 1);
    this.alive = new Uint8Array(width);
  }

  add(values: Float64Array, steps: number, width: number): void {
    const { alive, saturation, bounded } = this;
    const abs = new Sum();
    let sat = 0;
    for (let t = 0; t < steps; t++) {
      const o = t * width;
      for (let k = 0; k < width; k++) {
        const v = values[o + k];
        if (v !== 0) alive[k] = 1;
        abs.add(Math.abs(v));
        if (saturation === 'abs') {
          if (Math.abs(v) > SAT_HIGH) sat++;
        } else if (saturation === 'sigmoid') {
          if (v > SAT_HIGH || v < SAT_LOW) sat++;
        }
        if (bounded) this.bin(v);
      }
    }
    this.sum.add(abs.value);
    this.high += sat;
    this.count += steps * width;
  }

  /** Adds another reading's counts (a unit is alive if it was in either). */
  mergeUnits(other: UnitCounts): void {
    this.merge(other);
    for (let k = 0; k < this.alive.length; k++) this.alive[k] |= other.alive[k];
  }

  figures(): UnitFigures {
    const deadIndices: number[] = [];
    let deadUnits = 0;
    this.alive.forEach((a, k) => {
      if (a) return;
      deadUnits++;
      if (deadIndices.length < MAX_DEAD_INDICES) deadIndices.push(k);
    });
    return {
      saturatedShare: this.saturation === 'never' ? (this.count > 0 ? 0 : null) : this.share(this.high),
      deadUnits: this.count > 0 ? deadUnits : 0,
      deadIndices: this.count > 0 ? deadIndices : [],
      meanAbs: this.count > 0 ? this.sum.value / this.count : null,
      count: this.count,
      histogram: this.bounded ? this.histogram() : null,
    };
  }
}

/** The statistics of one layer and direction, added to sequence by sequence. */
export class CellStatsAccumulator {
  private readonly gates: ValueCounts[];
  private readonly units: UnitCounts;
  private readonly projected: UnitCounts | null;

  /**
   * @param specs the cell's gates (GATE_SPECS)
   * @param hiddenSize H
   * @param projSize P (0 without projections)
   * @param saturation the units' saturation rule (unitSaturationOf)
   */
  constructor(
    private readonly specs: readonly GateSpec[],
    private readonly hiddenSize: number,
    private readonly projSize: number,
    saturation: UnitSaturation,
  ) {
    this.gates = specs.map((g) => new ValueCounts(g.kind === 'sigmoid' ? 0 : -1, 1));
    this.units = new UnitCounts(hiddenSize, saturation, saturation !== 'never');
    this.projected = projSize > 0 ? new UnitCounts(projSize, 'abs', false) : null;
  }

  /** For the layers of a model, in model.layers order. */
  static forModel(model: Model): CellStatsAccumulator[] {
    const specs = GATE_SPECS[model.cell];
    const saturation = unitSaturationOf(model);
    return model.layers.map(() => new CellStatsAccumulator(specs, model.hiddenSize, model.projSize, saturation));
  }

  /** Adds the counts of another accumulator of the same layer and direction (a block's, once it is kept). */
  merge(other: CellStatsAccumulator): void {
    this.gates.forEach((g, i) => g.merge(other.gates[i]));
    this.units.mergeUnits(other.units);
    if (this.projected && other.projected) this.projected.mergeUnits(other.projected);
  }

  /** Adds one sequence (its `steps` real steps) of this layer and direction. */
  add(view: StatsView, steps: number): void {
    const H = this.hiddenSize;
    if (view.gates) {
      const { gates, gateStride } = view;
      this.specs.forEach((spec, g) => {
        const c = this.gates[g];
        const lowCut = spec.kind === 'sigmoid' ? SAT_LOW : -SAT_HIGH;
        const sum = new Sum();
        let low = 0;
        let high = 0;
        for (let t = 0; t < steps; t++) {
          const o = t * gateStride + g * H;
          for (let k = 0; k < H; k++) {
            const v = gates[o + k];
            sum.add(v);
            if (v < lowCut) low++;
            else if (v > SAT_HIGH) high++;
            c.bin(v);
          }
        }
        c.sum.add(sum.value);
        c.low += low;
        c.high += high;
        c.count += steps * H;
      });
    }
    this.units.add(view.units, steps, H);
    if (this.projected && view.projected) this.projected.add(view.projected, steps, this.projSize);
  }

  /** The gates' figures, in the cell's order. */
  gateFigures(): GateFigures[] {
    return this.specs.map((spec, g) => {
      const c = this.gates[g];
      return {
        name: spec.name,
        kind: spec.kind,
        mean: c.count > 0 ? c.sum.value / c.count : null,
        saturatedLow: c.share(c.low),
        saturatedHigh: c.share(c.high),
        histogram: c.histogram(),
      };
    });
  }

  unitFigures(): UnitFigures {
    return this.units.figures();
  }

  /** The P-wide h_t of an LSTM with projections, else null. */
  projectedFigures(): UnitFigures | null {
    return this.projected ? this.projected.figures() : null;
  }
}
