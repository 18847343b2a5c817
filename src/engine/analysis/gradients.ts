// The parameter gradients as the report gives them: named as PyTorch names the parameters, their global
// norm (as torch.nn.utils.clip_grad_norm_ computes it), largest element, and optionally every value.
import { type Model, paramName } from '../model/types';
import { gradArrays, type ParamGrads } from '../network';
import type { ParamGradient } from '../report/types';

/** One parameter's gradient array, named as PyTorch names the parameter, with its shape. */
interface NamedGradient {
  name: string;
  values: Float64Array;
  rows: number;
  cols: number | null;
}

/** Sets every gradient to zero. */
export function clearGrads(g: ParamGrads): void {
  for (const a of gradArrays(g)) a.fill(0);
}

/** The parameters PyTorch would have, with their gradient arrays and shapes. */
function namedParams(model: Model, g: ParamGrads): NamedGradient[] {
  const out: NamedGradient[] = [];
  model.layers.forEach((w, i) => {
    const lg = g.layers[i];
    const name = (kind: string): string => paramName(kind, w.layer, w.direction);
    out.push({ name: name('weight_ih'), values: lg.weightIh, rows: w.weightIh.rows, cols: w.weightIh.cols });
    out.push({ name: name('weight_hh'), values: lg.weightHh, rows: w.weightHh.rows, cols: w.weightHh.cols });
    if (!w.omitted?.includes('biasIh'))
      out.push({ name: name('bias_ih'), values: lg.biasIh, rows: w.biasIh.length, cols: null });
    if (!w.omitted?.includes('biasHh'))
      out.push({ name: name('bias_hh'), values: lg.biasHh, rows: w.biasHh.length, cols: null });
    if (w.weightHr && lg.weightHr)
      out.push({ name: name('weight_hr'), values: lg.weightHr, rows: w.weightHr.rows, cols: w.weightHr.cols });
  });
  if (model.embedding && g.embedding) {
    const E = model.embedding;
    out.push({ name: 'embedding.weight', values: g.embedding, rows: E.rows, cols: E.cols });
  }
  if (model.readout && g.readoutWeight && g.readoutBias) {
    out.push({
      name: 'readout.weight',
      values: g.readoutWeight,
      rows: model.readout.weight.rows,
      cols: model.readout.weight.cols,
    });
    out.push({ name: 'readout.bias', values: g.readoutBias, rows: model.readout.bias.length, cols: null });
  }
  return out;
}

/** Global L2 norm over all parameters, as torch.nn.utils.clip_grad_norm_ computes it. */
export function globalNorm(model: Model, g: ParamGrads): number {
  let scale = 0;
  for (const p of namedParams(model, g)) for (const v of p.values) scale = Math.max(scale, Math.abs(v));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (const p of namedParams(model, g)) for (const v of p.values) s += (v / scale) * (v / scale);
  return scale * Math.sqrt(s);
}

/** The largest |element| of all parameter gradients. */
export function globalMaxAbs(model: Model, g: ParamGrads): number {
  let m = 0;
  for (const p of namedParams(model, g)) for (const v of p.values) m = Math.max(m, Math.abs(v));
  return m;
}

/** x, or null when it is not finite (JSON has no Infinity or NaN). */
export function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/** The report's `gradients`: each parameter's norm and largest |element| (and its values when asked). */
export function reportGradients(model: Model, g: ParamGrads, withValues: boolean): Record<string, ParamGradient> {
  const out: Record<string, ParamGradient> = {};
  for (const p of namedParams(model, g)) {
    let maxAbs = 0;
    let scale = 0;
    for (const v of p.values) {
      maxAbs = Math.max(maxAbs, Math.abs(v));
      scale = maxAbs;
    }
    let s = 0;
    if (scale > 0 && Number.isFinite(scale)) for (const v of p.values) s += (v / scale) * (v / scale);
    const norm = scale > 0 && Number.isFinite(scale) ? scale * Math.sqrt(s) : scale;
    const entry: ParamGradient = { norm: finiteOrNull(norm), max_abs: finiteOrNull(maxAbs) };
    if (withValues) {
      const plain = Array.from(p.values, (v) => (Number.isFinite(v) ? v : (null as unknown as number)));
      entry.values =
        p.cols === null
          ? plain
          : Array.from({ length: p.rows }, (_, r) => plain.slice(r * (p.cols as number), (r + 1) * (p.cols as number)));
    }
    out[p.name] = entry;
  }
  return out;
}
