// The lag recursion alone, on one thread: time of the matrix products against the rest of the recursion, for
// one cell (default lstm H=256 T=1000), half of the columns (one thread's share on two cores), without the
// process start, forward pass, gradients and spectra that `npm run bench` times with it. Build and run:
//   npx esbuild tools/bench/lagAlone.ts --bundle --platform=node --main-fields=module,main --outfile=dist/lag-alone.js
//   node dist/lag-alone.js [cell:H:T[:pP][:f32]] [--unfused] [--rounds N]
// (--unfused: the cells' parts instead of their fused lag step, for comparison in the same run.) Times are the
// process's CPU time (user + system, this thread and V8's own), which other jobs on a loaded machine disturb less
// than the wall time; the wall time of the whole recursion is printed too.
import { buildCells } from '../../src/engine/cells';
import type { Cell } from '../../src/engine/cells/cell';
import { WasmGemmKernel } from '../../src/engine/kernels/wasmGemm';
import { accumulateLags } from '../../src/engine/lags';
import { LagStats } from '../../src/engine/logscale';
import { LossFunction } from '../../src/engine/loss';
import { KernelMatMul } from '../../src/engine/matmul';
import { parseModel } from '../../src/engine/model/parse';
import { forwardSequence } from '../../src/engine/network';
import { enableRelaxedSimd } from '../../src/worker/threadBoot';

const args = process.argv.slice(2);
const spec = args.find((a) => !a.startsWith('--') && /^[a-z]+:/.test(a)) ?? 'lstm:256:1000';
const unfused = args.includes('--unfused');
const roundsArg = args.indexOf('--rounds');
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 3;
const [cell, h, t, ...rest] = spec.split(':');
const proj = Number(rest.find((r) => r.startsWith('p'))?.slice(1) ?? 0);
const precision = rest.includes('f32') ? 'f32' : 'f64';

enableRelaxedSimd();
const parsed = parseModel(
  JSON.stringify({
    cell,
    input_size: 8,
    hidden_size: Number(h),
    num_layers: 1,
    ...(proj ? { proj_size: proj } : {}),
    init: { scheme: 'pytorch', seed: 1 },
    data: { generate: { sequences: 1, length: Number(t), distribution: 'normal', seed: 2 } },
    loss: 'sum',
  }),
);
if (!parsed.model) throw new Error(JSON.stringify(parsed.problems));
const model = parsed.model;
const fwd = forwardSequence(model, buildCells(model), new LossFunction(model), model.sequences[0]);

/** CPU seconds of this process so far. */
function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** Times and counts the products (multiply, and stage → product) of a KernelMatMul. */
class TimedMatMul extends KernelMatMul {
  seconds = 0;
  flops = 0;
  private staged = 0;
  private stagedFlops = 0;
  override multiply(...a: Parameters<KernelMatMul['multiply']>): void {
    const t0 = cpu();
    super.multiply(...a);
    this.seconds += cpu() - t0;
    this.flops += 2 * a[0] * a[1] * a[2];
  }
  override stage(m: number, n: number, k: number, W: Float64Array): Float64Array | null {
    const t0 = cpu();
    const view = super.stage(m, n, k, W);
    this.seconds += cpu() - t0;
    this.stagedFlops = 2 * n * k;
    return view;
  }
  override product(m: number, C: Float64Array, cOff: number, ldc?: number): void {
    const t0 = cpu();
    super.product(m, C, cOff, ldc);
    this.staged += cpu() - t0;
    this.flops += m * this.stagedFlops;
  }
  get productSeconds(): number {
    return this.seconds + this.staged;
  }
}

// The float64 kernel's large-product rate (1024³, B resident, best of five), as the bench measures it (also the
// reference of an f32 run, as in the bench's "of kernel").
const kernelGflops = ((): number => {
  const n = 1024;
  const K = new WasmGemmKernel({ precision: 'f64' });
  const A = new Float64Array(n * n).map((_, i) => Math.sin(i));
  const B = new Float64Array(n * n).map((_, i) => Math.cos(i));
  const C = new Float64Array(n * n);
  K.setB(n, n, B);
  K.multiplyResident(n, A, C, false);
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = cpu();
    K.multiplyResident(n, A, C, false);
    best = Math.max(best, (2 * n ** 3) / (cpu() - t0) / 1e9);
  }
  K.dispose();
  return best;
})();

const T = model.sequences[0].length;
console.log(
  `${spec}${unfused ? ' (parts, not fused)' : ''}: half of the columns (stride 2), one thread; ` +
    `float64 kernel ${kernelGflops.toFixed(1)} GFLOP/s (1024³); products in ${precision}`,
);
for (let round = 0; round < rounds; round++) {
  const kernel = new WasmGemmKernel({ precision });
  const mm = new TimedMatMul(kernel);
  const cells: Cell[] = buildCells(model, mm);
  if (unfused) for (const c of cells) c.lagStep = undefined;
  const stats = cells.map(() => new LagStats(T));
  const w0 = process.hrtime.bigint();
  const t0 = cpu();
  accumulateLags({
    cells,
    traces: fwd.traces,
    seeds: fwd.seeds,
    maxLag: T - 1,
    stats,
    hooks: { step: () => undefined },
    safeExponent: mm.safeExponent,
    subset: { stride: 2, offset: 0 },
  });
  const seconds = cpu() - t0;
  const wall = Number(process.hrtime.bigint() - w0) / 1e9;
  const p = mm.productSeconds;
  console.log(
    `  ${seconds.toFixed(3)} s CPU (${wall.toFixed(3)} s wall): products ${p.toFixed(3)} s (${((100 * p) / seconds).toFixed(0)}%), rest ` +
      `${(seconds - p).toFixed(3)} s; ${(mm.flops / 1e9).toFixed(1)} GFLOP, ` +
      `${(mm.flops / seconds / 1e9).toFixed(1)} GFLOP/s = ${((100 * mm.flops) / seconds / 1e9 / kernelGflops).toFixed(0)}% ` +
      `of the kernel (products alone ${((100 * mm.flops) / p / 1e9 / kernelGflops).toFixed(0)}%)` +
      (precision === 'f32' ? `; ${kernel.fallbackRows} rows recomputed in float64` : ''),
  );
  mm.dispose();
}
