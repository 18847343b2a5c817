// Multi-threaded wasm GEMM with a synchronous API: the calling thread and N helper worker threads share one
// WebAssembly.Memory (SharedArrayBuffer-backed) and split the rows of C (MR-row panels, in chunks claimed
// from an atomic counter, see parallelProtocol.ts). The caller always works too and only blocks (Atomics.wait,
// allowed in Node's main thread and in workers) on chunks a helper has already claimed.
//
// Helper script: dist/gemm-helper.js when bundled (esbuild.js entry), or the tsc output gemmHelperWorker.js.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { GemmKernel } from './gemm';
import type { GemmHelperData } from './gemmHelperWorker';
import { CLOSED, CTRL_SLOTS, Ctrl, MAX_CHUNKS, claimWord, runChunks, type PanelWorker } from './parallelProtocol';
import { getGemmModule, WasmGemmKernel, type WasmGemmOptions } from './wasmGemm';
import type { Precision } from './wasmGemmModule';
import type { RowKernels } from './rowKernels';
import { wasmApi } from './wasmApi';

export interface ParallelGemmOptions extends Omit<WasmGemmOptions, 'memory' | 'shared'> {
  /** total threads including the caller (default: available parallelism, at most 8) */
  threads?: number;
  /** path of the helper worker script (default: found next to this file) */
  helperScript?: string;
  /** helper polls before sleeping between jobs (default 20000) */
  spin?: number;
  /** Nice value of the helper threads (they lower their own priority at start); 0 or absent: inherited. */
  niceness?: number;
  /** below this many flops per multiply, the caller works alone (default 4e6) */
  minParallelFlops?: number;
}

export function defaultHelperScript(): string | undefined {
  for (const name of ['gemm-helper.js', 'gemmHelperWorker.js']) {
    const p = path.join(__dirname, name);
    if (fs.existsSync(p)) return p;
  }
  return undefined;
}

export class ParallelWasmGemm implements GemmKernel {
  readonly name: string;
  readonly precision: Precision;
  readonly threads: number;
  private readonly base: WasmGemmKernel;
  private readonly ctrl: Int32Array;
  private readonly self: PanelWorker;
  private readonly workers: Worker[] = [];
  private readonly minParallelFlops: number;
  private gen = 0;

  constructor(opts: ParallelGemmOptions = {}) {
    const wanted = Math.max(1, Math.min(8, opts.threads ?? os.availableParallelism?.() ?? os.cpus().length));
    this.base = new WasmGemmKernel({ ...opts, shared: true });
    this.precision = this.base.precision;
    const script = opts.helperScript ?? defaultHelperScript();
    this.ctrl = new Int32Array(new SharedArrayBuffer(CTRL_SLOTS * 4));
    this.minParallelFlops = opts.minParallelFlops ?? 4e6;
    const instance = new (wasmApi().Instance)(getGemmModule(this.base.config), { env: { mem: this.base.memory } });
    this.self = instance.exports as unknown as PanelWorker;
    if (script) {
      for (let i = 1; i < wanted; i++) {
        const data: GemmHelperData = {
          gemmHelper: true,
          module: getGemmModule(this.base.config),
          memory: this.base.memory,
          ctrl: this.ctrl.buffer as SharedArrayBuffer,
          spin: opts.spin ?? 20000,
          niceness: opts.niceness,
        };
        const w = new Worker(script, { workerData: data });
        w.unref();
        w.on('error', () => undefined); // a failed helper only costs speed
        this.workers.push(w);
      }
    }
    this.threads = 1 + this.workers.length;
    this.name = `${this.base.name}-x${this.threads}`;
  }

  /** Number of helpers that have started (they may start after the first multiplies; that is fine). */
  get readyHelpers(): number {
    return Atomics.load(this.ctrl, Ctrl.Ready);
  }

  setB(k: number, n: number, B: Float64Array, bOff = 0): void {
    this.base.setB(k, n, B, bOff);
  }

  addB(k: number, n: number, B: Float64Array, bOff = 0): number {
    return this.base.addB(k, n, B, bOff);
  }

  useB(slot: number): void {
    this.base.useB(slot);
  }

  clearB(): void {
    this.base.clearB();
  }

  /** f32: rows recomputed in float64 so far (see WasmGemmKernel.fallbackRows). */
  get fallbackRows(): number {
    return this.base.fallbackRows;
  }

  multiply(
    m: number,
    n: number,
    k: number,
    A: Float64Array,
    B: Float64Array,
    C: Float64Array,
    accumulate: boolean,
  ): void {
    this.setB(k, n, B);
    this.multiplyResident(m, A, C, accumulate);
  }

  multiplyResident(m: number, A: Float64Array, C: Float64Array, accumulate: boolean, aOff = 0, cOff = 0): void {
    const L = this.base.currentLayout;
    if (m <= 0 || L.n === 0) return;
    if (A.length < aOff + m * L.k || C.length < cOff + m * L.n) throw new RangeError('gemm: A or C too short');
    this.base.copyIn(m, A, aOff, accumulate ? C : undefined, cOff);
    this.compute(m, accumulate);
    this.base.copyOut(m, C, cOff);
  }

  /** Zero-copy path, as WasmGemmKernel.inputView / outputView / compute. */
  inputView(m: number): Float64Array {
    return this.base.inputView(m);
  }

  outputView(m: number): Float64Array {
    return this.base.outputView(m);
  }

  /** As WasmGemmKernel.sideRegion, memoryView and rowKernels (the memory is the base kernel's). */
  sideRegion(bytes: number): number {
    return this.base.sideRegion(bytes);
  }

  memoryView(): Float64Array {
    return this.base.memoryView();
  }

  rowKernels(): RowKernels {
    return this.base.rowKernels();
  }

  compute(m: number, accumulate: boolean): void {
    this.base.reserve(m);
    const L0 = this.base.currentLayout;
    if (m <= 0 || L0.n === 0) return;
    const mr = this.base.config.mr;
    const total = Math.ceil(m / mr);
    const flops = 2 * m * L0.n * L0.k;
    if (this.workers.length === 0 || flops < this.minParallelFlops || total < 2) {
      this.base.compute(m, accumulate);
      return;
    }
    const job = this.base.begin(m, accumulate);
    const L = this.base.currentLayout;
    // ~4 chunks per thread for balance, but keep chunks at most one cache block of panels
    let chunkPanels = Math.max(1, Math.min(this.base.config.mcPanels, Math.ceil(total / (4 * this.threads))));
    while (Math.ceil(total / chunkPanels) > MAX_CHUNKS) chunkPanels *= 2;
    const nChunks = Math.ceil(total / chunkPanels);
    const c = this.ctrl;
    const gen = ++this.gen;
    c[Ctrl.M] = m;
    c[Ctrl.K] = L.k;
    c[Ctrl.KPad] = L.kPad;
    c[Ctrl.NPanels] = L.nPanels;
    c[Ctrl.Ar] = L.ar;
    c[Ctrl.Ap] = L.ap;
    c[Ctrl.Bp] = L.bp;
    c[Ctrl.Cp] = L.cp;
    c[Ctrl.Ldc] = L.nPad * 8;
    c[Ctrl.Acc] = job.kernelAccumulates ? 1 : 0;
    c[Ctrl.Rs] = L.rs;
    c[Ctrl.Cs] = L.cs;
    c[Ctrl.Norms] = L.cs + L.nPad * 8;
    c[Ctrl.ChunkPanels] = chunkPanels;
    c[Ctrl.TotalPanels] = total;
    Atomics.store(c, Ctrl.NChunks, nChunks);
    Atomics.store(c, Ctrl.Done, 0);
    Atomics.store(c, Ctrl.Claim, claimWord(gen, 0)); // open
    Atomics.store(c, Ctrl.Gen, gen);
    Atomics.notify(c, Ctrl.Gen);
    runChunks(c, gen, this.self);
    const t0 = Date.now();
    for (;;) {
      const d = Atomics.load(c, Ctrl.Done);
      if (d >= nChunks) break;
      Atomics.wait(c, Ctrl.Done, d, 1000);
      // a chunk takes milliseconds; a helper that died holding one would otherwise block forever
      if (Date.now() - t0 > 120000) throw new Error('gemm: a helper thread stalled');
    }
    Atomics.store(c, Ctrl.Claim, claimWord(gen, CLOSED)); // close
    this.base.finish(m, job.saved);
  }

  dispose(): void {
    Atomics.store(this.ctrl, Ctrl.Stop, 1);
    Atomics.add(this.ctrl, Ctrl.Gen, 1);
    Atomics.notify(this.ctrl, Ctrl.Gen);
    for (const w of this.workers) void w.terminate();
    this.workers.length = 0;
    this.base.dispose();
  }
}
