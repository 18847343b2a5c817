// The full lag table in chunks of columns, claimed dynamically by the threads and merged in a fixed order.
//
// Each sequence's columns (loss terms t) are cut into chunks of decreasing size (guided: about 30% of what is left,
// at least 1/16, the last what remains; fewer chunks mean fewer walks, each with more rows), each spread evenly
// over t (column t goes to the chunk whose interval holds frac(t·φ), so every chunk gets short and long columns
// alike). The cut depends only on the model and the lag cap, never on
// the threads. Every thread that reaches a sequence claims its chunks from one shared counter per sequence
// (Atomics.add) until none is left; the caller also runs the gradients, so it simply claims fewer. Each
// chunk's pairs go into statistics of their own, and the caller merges the chunks in their index order (sequence
// by sequence, chunk by chunk), whichever thread computed them and whenever it finished: the table is the same to
// the bit for any number of threads and any claim order. Another thread's chunk comes back through a ring of
// slots in shared memory (LagStats.pack); a thread waits for a free slot only when the caller is that far behind.
import type { ColumnSubset } from './lags';
import { LagStats } from './logscale';
import type { Model } from './model/types';
import { sequenceLagWork, stackShapeOf, type StackShape } from './stackLags';

/** Lag-table flops (all sequences) from which the table is cut into chunks (and may be split across threads). */
export const CHUNK_MIN_FLOPS = 2e9;

/** Share of what is left that the next chunk takes, and the smallest chunk (shares of the sequence's columns). */
const GUIDED_SHARE = 0.3;
const MIN_SHARE = 1 / 16;

/** Bytes the ring of returned chunks may take (it has at least two slots). */
const RING_BYTES = 64 * 2 ** 20;

/** The fractional golden ratio: frac(t·φ) spreads any run of columns evenly over [0, 1). */
const PHI = 0.6180339887498949;

/** Shares of a cut sequence's chunks, in claim order: about 30% of what is left, at least 1/16. */
export function chunkShares(): number[] {
  const shares: number[] = [];
  let left = 1;
  while (left > 0) {
    // The last one takes what is left (then at most MIN_SHARE); one of almost nothing joins the one before.
    let s = Math.min(left, Math.max(MIN_SHARE, left * GUIDED_SHARE));
    if (left - s < MIN_SHARE / 8) s = left;
    shares.push(s);
    left -= s;
  }
  return shares;
}

const SHARES = chunkShares();
/** Bounds of the chunks' intervals of frac(t·φ): chunk c holds [BOUNDS[c], BOUNDS[c + 1]). */
const BOUNDS = SHARES.reduce((b, s) => [...b, b[b.length - 1] + s], [0]);
BOUNDS[BOUNDS.length - 1] = 1;

/** Where each sequence's chunks are: the same in every thread, from the model and the lag cap. */
export class ChunkLayout {
  /** Chunks of sequence b. */
  readonly counts: Int32Array;
  /** Global index of sequence b's first chunk (chunks are merged in global index order). */
  readonly first: Int32Array;
  readonly total: number;
  readonly shape: StackShape;

  constructor(
    readonly lengths: readonly number[],
    shape: StackShape,
    readonly maxLag: number,
    flopsPerRow: number,
    minFlops: number,
  ) {
    this.shape = shape;
    this.counts = new Int32Array(lengths.length);
    this.first = new Int32Array(lengths.length);
    let g = 0;
    lengths.forEach((T, b) => {
      // A sequence much smaller than the chunking threshold is one chunk.
      const flops = sequenceLagWork(shape, T, maxLag) * flopsPerRow;
      this.counts[b] = flops >= minFlops / 16 ? SHARES.length : 1;
      this.first[b] = g;
      g += this.counts[b];
    });
    this.total = g;
  }

  /** The columns of chunk c of sequence b. */
  subset(b: number, c: number): ColumnSubset {
    const T = this.lengths[b];
    if (this.counts[b] === 1) return { stride: 1, offset: 0 };
    const mask = new Uint8Array(T);
    const lo = BOUNDS[c];
    const hi = BOUNDS[c + 1];
    for (let t = 0; t < T; t++) {
      const p = (t * PHI) % 1;
      if (p >= lo && p < hi) mask[t] = 1;
    }
    return { stride: 1, offset: 0, mask };
  }
}

/** The layout of a model's full table. */
export function chunkLayoutOf(model: Model, maxLag: number, flopsPerRow: number, minFlops: number): ChunkLayout {
  return new ChunkLayout(
    model.sequences.map((s) => s.length),
    stackShapeOf(model),
    maxLag,
    flopsPerRow,
    minFlops,
  );
}

/** Doubles of one ring slot: one packed LagStats per layer. */
function slotDoubles(layers: number, maxLag: number): number {
  return layers * (maxLag + 1) * LagStats.PACKED_PER_LAG;
}

/** Ring slots for a layout (all chunks when they fit RING_BYTES; at least two). */
export function ringSlots(layout: ChunkLayout, layers: number): number {
  const fit = Math.floor(RING_BYTES / (8 * slotDoubles(layers, layout.maxLag)));
  return Math.max(1, Math.min(layout.total, Math.max(2, fit)));
}

/** The shared state of one chunked table: per-sequence claim counters, ring slot states and the ring itself. */
export interface ChunkShared {
  /** Int32: [0, B) next chunk of each sequence; [B, B + slots) the chunk index + 1 a slot holds (0: free). */
  control: SharedArrayBuffer;
  /** Float64: slots × layers packed LagStats. */
  ring: SharedArrayBuffer;
  slots: number;
  /** The threshold the layout was made with (every thread makes the same layout). */
  minFlops: number;
}

/** New shared state for a layout. */
export function newChunkShared(layout: ChunkLayout, layers: number, minFlops: number): ChunkShared {
  const slots = ringSlots(layout, layers);
  return {
    control: new SharedArrayBuffer(4 * (layout.lengths.length + slots)),
    ring: new SharedArrayBuffer(8 * slots * slotDoubles(layers, layout.maxLag)),
    slots,
    minFlops,
  };
}

/** Milliseconds of one wait for the ring (cancellation is checked between them). */
const WAIT_SLICE_MS = 20;

/** One thread's view of the shared state. */
export class ChunkClaims {
  private readonly control: Int32Array;
  private readonly ring: Float64Array;
  private readonly B: number;
  private readonly perSlot: number;

  constructor(
    readonly layout: ChunkLayout,
    readonly layers: number,
    readonly shared: ChunkShared,
  ) {
    this.control = new Int32Array(shared.control);
    this.ring = new Float64Array(shared.ring);
    this.B = layout.lengths.length;
    this.perSlot = slotDoubles(layers, layout.maxLag);
  }

  /** Whether sequence b has chunks left to claim. */
  hasWork(b: number): boolean {
    return Atomics.load(this.control, b) < this.layout.counts[b];
  }

  /** Claims the next chunk of sequence b: its index, or -1 when none is left. */
  claim(b: number): number {
    if (!this.hasWork(b)) return -1;
    const c = Atomics.add(this.control, b, 1);
    return c < this.layout.counts[b] ? c : -1;
  }

  /**
   * Hands chunk g's statistics to the caller (another thread): waits for its ring slot to be free (the caller
   * merges in order), calling `check` between waits (it throws to stop).
   */
  put(g: number, stats: readonly LagStats[], check: () => void): void {
    const slot = g % this.shared.slots;
    const state = this.B + slot;
    for (;;) {
      const held = Atomics.load(this.control, state);
      if (held === 0) break;
      Atomics.wait(this.control, state, held, WAIT_SLICE_MS);
      check();
    }
    let o = slot * this.perSlot;
    for (const s of stats) {
      s.pack(this.ring, o);
      o += s.lags * LagStats.PACKED_PER_LAG;
    }
    Atomics.store(this.control, state, g + 1);
    Atomics.notify(this.control, state);
  }

  /** Chunk g's statistics when another thread has put them (the slot is then freed), else null. */
  take(g: number): LagStats[] | null {
    const slot = g % this.shared.slots;
    const state = this.B + slot;
    if (Atomics.load(this.control, state) !== g + 1) return null;
    const lags = this.layout.maxLag + 1;
    const out: LagStats[] = [];
    let o = slot * this.perSlot;
    for (let k = 0; k < this.layers; k++) {
      out.push(LagStats.unpack(lags, this.ring, o));
      o += lags * LagStats.PACKED_PER_LAG;
    }
    Atomics.store(this.control, state, 0);
    Atomics.notify(this.control, state);
    return out;
  }
}

/** The caller's merge of every chunk into one table, in global chunk order. */
export class ChunkMerger {
  private next = 0;
  private readonly own = new Map<number, LagStats[]>();

  constructor(
    private readonly claims: ChunkClaims,
    private readonly into: LagStats[],
  ) {}

  /** The caller's own chunk g. */
  add(g: number, stats: LagStats[]): void {
    this.own.set(g, stats);
    this.drain();
  }

  /** Merges every chunk that is ready, in order, up to the first that is not. */
  drain(): void {
    while (this.next < this.claims.layout.total) {
      const g = this.next;
      const stats = this.own.get(g) ?? this.claims.take(g);
      if (!stats) return;
      this.own.delete(g);
      this.into.forEach((s, k) => s.merge(stats[k]));
      this.next++;
    }
  }

  /** Whether every chunk is merged. */
  get complete(): boolean {
    return this.next >= this.claims.layout.total;
  }
}
