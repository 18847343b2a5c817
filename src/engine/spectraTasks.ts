// The spectra of a split lag table's model (every layer's σ_max of W_hh, and its spectral radius for an rnn) as
// tasks that any thread may claim, like the table's chunks (lagChunks.ts): a lag thread takes them when it starts,
// while the caller runs its forward and backward passes, and the caller takes what is left before its first
// chunk. So they run on whichever thread would otherwise wait, outside the recursion. Each task is one exact
// computation (linalg.ts) on the same weights: its value is the same to the bit on any thread.
import { largestSingularValue, spectralRadius } from './linalg';
import type { Model } from './model/types';

/** One spectrum: layer k's spectral radius (rnn only) or σ_max. */
export interface SpectrumTask {
  layer: number;
  kind: 'radius' | 'sigma';
}

/** The tasks of a model, the longest first (the radius costs several times σ_max). */
export function spectraTasks(model: Model): SpectrumTask[] {
  const radius: SpectrumTask[] =
    model.cell === 'rnn' ? model.layers.map((_, layer) => ({ layer, kind: 'radius' as const })) : [];
  return [...radius, ...model.layers.map((_, layer) => ({ layer, kind: 'sigma' as const }))];
}

/** Computes one task. */
export function runSpectrumTask(model: Model, task: SpectrumTask, check: () => void): number {
  const w = model.layers[task.layer].weightHh;
  return task.kind === 'radius'
    ? spectralRadius(w.cols, w.data, check)
    : largestSingularValue(w.rows, w.cols, w.data, check);
}

/** The shared state of the tasks: [0] next task, [1 + i] task i done (Int32); results (Float64). */
export interface SpectraShared {
  control: SharedArrayBuffer;
  values: SharedArrayBuffer;
}

export function newSpectraShared(model: Model): SpectraShared {
  const n = spectraTasks(model).length;
  return { control: new SharedArrayBuffer(4 * (n + 1)), values: new SharedArrayBuffer(8 * n) };
}

/** Milliseconds of one wait for another thread's task (cancellation is checked between them). */
const WAIT_SLICE_MS = 20;

/** One thread's view of the tasks. */
export class SpectraClaims {
  private readonly control: Int32Array;
  private readonly values: Float64Array;
  private readonly tasks: SpectrumTask[];

  constructor(
    private readonly model: Model,
    shared: SpectraShared,
  ) {
    this.control = new Int32Array(shared.control);
    this.values = new Float64Array(shared.values);
    this.tasks = spectraTasks(model);
  }

  /** Claims and computes tasks until none is left. */
  runAll(check: () => void): void {
    for (;;) {
      if (Atomics.load(this.control, 0) >= this.tasks.length) return;
      const i = Atomics.add(this.control, 0, 1);
      if (i >= this.tasks.length) return;
      this.values[i] = runSpectrumTask(this.model, this.tasks[i], check);
      Atomics.store(this.control, 1 + i, 1);
      Atomics.notify(this.control, 1 + i);
    }
  }

  /** Every task's value by layer, once all are done (waits for other threads' tasks, calling `check`). */
  results(check: () => void): { sigmaMax: number; radius: number | null }[] {
    this.runAll(check);
    for (let i = 0; i < this.tasks.length; i++) {
      while (Atomics.load(this.control, 1 + i) === 0) {
        Atomics.wait(this.control, 1 + i, 0, WAIT_SLICE_MS);
        check();
      }
    }
    const out = this.model.layers.map(() => ({ sigmaMax: 0, radius: null as number | null }));
    this.tasks.forEach((t, i) => {
      if (t.kind === 'radius') out[t.layer].radius = this.values[i];
      else out[t.layer].sigmaMax = this.values[i];
    });
    return out;
  }
}
