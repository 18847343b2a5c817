// The (t, j) map of one sequence: the largest ‖∂ε_t/∂s_j‖ of every pair of steps, binned to a bounded size,
// for the report panel. Requested per analysis; collected by the lag recursion (lags.ts), merged across the
// threads of a split lag table, and written into the report's `heatmaps`.
import type { Model } from './model/types';
import type { HeatmapReport } from './report/types';

/** Largest side of the (t, j) map, in cells. */
export const MAX_HEATMAP_SIZE = 1024;

/** A (t, j) map request: one sequence, downsampled to at most maxSize cells a side. */
export interface HeatmapRequest {
  sequence: number;
  maxSize: number;
}

/** Collects one sequence's (t, j) norms of every layer into bins (the panel's map). */
export class HeatmapCollector {
  readonly bin: number;
  readonly size: number;
  readonly cells: Float64Array[];

  constructor(
    readonly length: number,
    layers: number,
    maxSize: number,
  ) {
    this.bin = Math.max(1, Math.ceil(length / Math.max(1, maxSize)));
    this.size = Math.ceil(length / this.bin);
    this.cells = Array.from({ length: layers }, () => new Float64Array(this.size * this.size).fill(-Infinity));
  }

  add(layer: number, t: number, j: number, log10: number | null): void {
    if (log10 === null) return;
    const idx = Math.floor(t / this.bin) * this.size + Math.floor(j / this.bin);
    if (log10 > this.cells[layer][idx]) this.cells[layer][idx] = log10;
  }

  /** Takes the larger value of every cell from another collector's cells (other columns of the map). */
  merge(cells: readonly Float64Array[]): void {
    this.cells.forEach((mine, layer) => {
      const theirs = cells[layer];
      for (let i = 0; i < mine.length; i++) if (theirs[i] > mine[i]) mine[i] = theirs[i];
    });
  }
}

/** The map collector of a request, or null when there is none (or the sequence does not exist). */
export function heatmapCollectorFor(model: Model, request: HeatmapRequest | null): HeatmapCollector | null {
  if (!request || request.sequence >= model.sequences.length) return null;
  return new HeatmapCollector(
    model.sequences[request.sequence].length,
    model.layers.length,
    Math.min(request.maxSize, MAX_HEATMAP_SIZE),
  );
}

/**
 * The report's maps (one per layer and direction, model.layers order) from a collector of this sequence; empty
 * cells are null. A reverse direction's pairs are t ≤ j (the map's upper triangle).
 */
export function heatmapReports(model: Model, h: HeatmapCollector, sequence: number): HeatmapReport[] {
  return h.cells.map((cells, i) => ({
    layer: model.layers[i].layer,
    direction: model.layers[i].direction,
    sequence,
    length: h.length,
    bin: h.bin,
    size: h.size,
    log10_norm: Array.from(cells, (v) => (v === -Infinity ? null : v)),
  }));
}
