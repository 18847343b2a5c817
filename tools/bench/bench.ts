// `npm run bench`: time, achieved GFLOP/s and peak RSS of the full analysis (`rnn-gradients analyze
// --json`, worker + WebAssembly kernels) for rnn tanh, lstm and gru, H ∈ {64, 128, 256},
// T ∈ {250, 1000}, plus a bidirectional lstm and an lstm with projections (P = 128), both H=256 T=1000;
// the ratio to the project's plain reference path; and, where /usr/bin/python3 has torch, the ratio to
// the hand-batched PyTorch recursion (tools/bench/torch_lags.py) run in the same bench. Then the timeline rows
// (tools/bench/trackBench.ts: `track` on 50 checkpoints). Options: --quick (H=256, T=1000 rnn only),
// --only cell:H:T[:bi][:pP][:f32][,…] (e.g. lstm:256:1000:bi, lstm:256:1000:p128, rnn:256:1000:f32 for
// --precision f32; `--only track`: the timeline
// rows alone; `--only scale`: the scale rows alone, tools/bench/scaleBench.ts), --no-torch, --no-ref, --no-track,
// --no-scale.
// Internal: `--ref FILE MAXLAG` runs the plain reference path in this process and prints JSON.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseModel } from '../../src/engine/model/parse';
import { analyzeModel } from '../../src/engine/analyze';
import { lagWork } from '../../src/engine/lags';
import { GATES, type CellType } from '../../src/engine/model/types';
import type { Report } from '../../src/engine/report/types';
import { runTrackBench, type TrackRow } from './trackBench';
import { WasmGemmKernel } from '../../src/engine/kernels/wasmGemm';
import { enableRelaxedSimd } from '../../src/worker/threadBoot';
import { runScaleBench, type ScaleRow } from './scaleBench';

const HELP = `npm run bench -- [options]

Times \`rnn-gradients analyze --json --exact\` (one sequence, 8 inputs) for each row, with its peak RSS, and
where /usr/bin/python3 has torch the hand-batched PyTorch recursion in the same run.

  --only ROWS   comma-separated rows: cell:H:T[:bi][:pP][:f32] (e.g. rnn:256:1000, lstm:256:1000:f32,
                lstm:256:1000:bi, lstm:256:1000:p128), \`track\` (timeline rows), \`scale\` (scale rows)
  --quick       rnn:256:1000 only
  --no-torch    skip PyTorch       --no-ref    skip the plain TypeScript reference path
  --no-track    skip the timeline  --no-scale  skip the scale rows

Columns: "of kernel (whole run)" is the lag table's flops over the whole CLI run's wall time (process start,
parse, forward and backward passes, gradients, spectra, thread imbalance), as a share of the float64 kernel's
rate on a 1024³ product times the machine's threads. "of kernel (recursion)" is the same flops over the lag
recursion's own wall time as the engine measures it (first column to last, all threads; the CLI prints it on
stderr when RNN_GRADIENTS_LAG_TIMING=1), as a share of the kernel's rate times the threads that ran it. "per
CPU-second" is the same flops over the CPU time the threads ran inside their walks (Linux), as a share of the
kernel's one-thread rate: the recursion's efficiency without the time its walks waited for a core. A :f32
row next to its float64 row also prints f32 / f64 for both times. Results: test-results/bench.json.
`;

interface Config {
  cell: CellType;
  hidden: number;
  steps: number;
  /** A reverse direction with its own weights (one layer: the two directions' lag tables are independent). */
  bidirectional?: boolean;
  /** LSTM projection size P (0 or absent: none). */
  proj?: number;
  /** `--precision f32` (float32 lag products). */
  f32?: boolean;
}

function configName(c: Config): string {
  return `${c.bidirectional ? 'bi' : ''}${c.cell} H=${c.hidden}${c.proj ? ` P=${c.proj}` : ''} T=${c.steps}${c.f32 ? ' f32' : ''}`;
}

/** `cell:H:T`, optionally followed by `:bi`, `:pP` and `:f32`. */
function parseConfig(s: string): Config {
  const [cell, h, t, ...flags] = s.split(':');
  const proj = flags.find((f) => /^p\d+$/.test(f));
  return {
    cell: cell as CellType,
    hidden: Number(h),
    steps: Number(t),
    bidirectional: flags.includes('bi'),
    proj: proj ? Number(proj.slice(1)) : 0,
    f32: flags.includes('f32'),
  };
}

const INPUT_SIZE = 8;
/** The reference path is run with a lag cap so that it takes about this long, then scaled up. */
const REF_BUDGET_FLOPS = 1e9;

function modelText(c: Config): string {
  return JSON.stringify({
    name: `bench ${configName(c)}`,
    cell: c.cell,
    input_size: INPUT_SIZE,
    hidden_size: c.hidden,
    num_layers: 1,
    ...(c.bidirectional ? { bidirectional: true } : {}),
    ...(c.proj ? { proj_size: c.proj } : {}),
    init: { scheme: 'pytorch', seed: 1 },
    data: { generate: { sequences: 1, length: c.steps, distribution: 'normal', seed: 2 } },
    loss: 'sum',
  });
}

/**
 * Multiply-adds ×2 of the recursion's matrix products (W_hh, and W_hr with projections: one layer has no input
 * product), for each direction.
 */
function lagFlops(c: Config, maxLag: number): number {
  const width = c.proj ? c.proj : c.hidden;
  const perRow = GATES[c.cell] * c.hidden * width + (c.proj ? c.proj * c.hidden : 0);
  return 2 * perRow * lagWork(c.steps, maxLag) * (c.bidirectional ? 2 : 1);
}

function runRef(file: string, maxLag: number): void {
  const model = parseModel(fs.readFileSync(file, 'utf8')).model;
  if (!model) throw new Error('bench model did not parse');
  const t0 = process.hrtime.bigint();
  const report = analyzeModel(model, { file, maxLag });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ seconds, means: report.layers[0].lags.map((l) => l.log10_mean) }) + '\n');
}

/**
 * The float64 kernel's rate on a large square product (1024³, B resident, best of a few rounds), one thread:
 * the rate the lag recursion's threads can reach at most, each on its share of the columns.
 */
function kernelRate(precision: 'f64' | 'f32'): number {
  enableRelaxedSimd();
  const n = 1024;
  const K = new WasmGemmKernel({ precision });
  const A = new Float64Array(n * n).map((_, i) => Math.sin(i));
  const B = new Float64Array(n * n).map((_, i) => Math.cos(i));
  const C = new Float64Array(n * n);
  K.setB(n, n, B);
  K.multiplyResident(n, A, C, false); // warm-up and tier-up
  let best = 0;
  for (let round = 0; round < 5; round++) {
    const t0 = process.hrtime.bigint();
    K.multiplyResident(n, A, C, false);
    best = Math.max(best, (2 * n ** 3) / (Number(process.hrtime.bigint() - t0) / 1e9) / 1e9);
  }
  return best;
}

interface Row {
  config: string;
  seconds: number;
  gflops: number;
  /** gflops as a share of the kernel's large-product rate on every core (kernelRate × threads). */
  kernel_share: number | null;
  /**
   * The lag recursion alone, as the engine timed it (RNN_GRADIENTS_LAG_TIMING): wall seconds from the first
   * column to the last on all threads, the threads that ran it, its GFLOP/s and their share of the kernel's
   * rate on those threads.
   */
  recursion_seconds: number | null;
  recursion_threads: number | null;
  recursion_gflops: number | null;
  recursion_kernel_share: number | null;
  /**
   * The recursion's rate per CPU-second its threads ran inside their walks (the engine's per-thread CPU time,
   * Linux), as a share of the kernel's one-thread rate: its efficiency apart from the time the walks wait for a
   * core (on two cores they share the CPU with the analysis thread's passes, which the wall time counts).
   */
  recursion_cpu_share: number | null;
  peak_rss_mb: number;
  ref_seconds: number | null;
  ref_note: string;
  ref_ratio: number | null;
  max_rel_diff_vs_ref: number | null;
  torch_seconds: number | null;
  torch_peak_rss_mb: number | null;
  torch_ratio: number | null;
  torch_zero_lags: number | null;
  our_smallest_log10: number | null;
}

function hasTorch(): boolean {
  if (!fs.existsSync('/usr/bin/python3')) return false;
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

function main(): void {
  const argv = process.argv.slice(2);
  if (argv[0] === '--ref') {
    runRef(argv[1], Number(argv[2]));
    return;
  }
  if (argv.includes('--help')) {
    process.stdout.write(HELP);
    return;
  }
  const root = path.resolve(__dirname, '..');
  const cli = path.join(root, 'dist', 'cli.js');
  const self = path.join(root, 'dist', 'bench.js');
  const torchScript = path.join(root, 'tools', 'bench', 'torch_lags.py');
  const only = argv.includes('--only')
    ? argv[argv.indexOf('--only') + 1]
    : argv.includes('--quick')
      ? 'rnn:256:1000'
      : '';
  const configs: Config[] = only
    ? only
        .split(',')
        .filter((s) => s !== 'track' && s !== 'scale')
        .map(parseConfig)
    : [
        ...(['rnn', 'lstm', 'gru'] as CellType[]).flatMap((cell) =>
          [64, 128, 256].flatMap((hidden) => [250, 1000].map((steps) => ({ cell, hidden, steps }))),
        ),
        parseConfig('lstm:256:1000:bi'),
        parseConfig('lstm:256:1000:p128'),
      ];
  const torch = !argv.includes('--no-torch') && hasTorch();
  const withRef = !argv.includes('--no-ref');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-bench-'));
  const rssHook = path.join(tmp, 'rss.js');
  fs.writeFileSync(
    rssHook,
    "process.on('exit', () => require('fs').writeFileSync(process.env.RNN_BENCH_RSS, String(process.resourceUsage().maxRSS)));\n",
  );
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `rnn-gradients bench: ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  console.log(
    `PyTorch baseline: ${torch ? 'tools/bench/torch_lags.py (hand-batched GEMM recursion, float64, 2 threads)' : 'not available (/usr/bin/python3 without torch)'}`,
  );
  const threads = Math.max(1, os.availableParallelism?.() ?? os.cpus().length);
  const kernel = configs.length ? kernelRate('f64') : 0;
  if (configs.length)
    console.log(
      `Kernel: float64 WebAssembly GEMM on a 1024³ product ${kernel.toFixed(1)} GFLOP/s per thread, ` +
        `${(kernel * threads).toFixed(1)} on ${threads} threads (the recursion's ceiling; "of kernel" below)`,
    );
  const rows: Row[] = [];
  for (const c of configs) {
    const name = configName(c);
    const file = path.join(tmp, `${name.replace(/[ =]/g, '-')}.rnn.json`);
    fs.writeFileSync(file, modelText(c));
    const rssFile = path.join(tmp, 'rss.txt');
    const t0 = process.hrtime.bigint();
    const run = spawnSync(
      process.execPath,
      ['--require', rssHook, cli, 'analyze', file, '--json', '--exact', ...(c.f32 ? ['--precision', 'f32'] : [])],
      {
        cwd: tmp,
        env: { ...process.env, RNN_BENCH_RSS: rssFile, RNN_GRADIENTS_LAG_TIMING: '1' },
        maxBuffer: 1 << 30,
        encoding: 'utf8',
      },
    );
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (run.status !== 0) throw new Error(`${name}: the CLI failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as Report;
    const lags = report.layers[0].lags;
    const peak = Number(fs.readFileSync(rssFile, 'utf8')) / 1024;
    const flops = lagFlops(c, c.steps - 1);
    const timing = recursionTiming(run.stderr);
    const row: Row = {
      config: name,
      seconds,
      gflops: flops / seconds / 1e9,
      kernel_share: kernel > 0 && !c.f32 ? flops / seconds / 1e9 / (kernel * threads) : null,
      recursion_seconds: timing?.seconds ?? null,
      recursion_threads: timing?.threads ?? null,
      recursion_gflops: timing ? flops / timing.seconds / 1e9 : null,
      recursion_kernel_share:
        timing && kernel > 0 && !c.f32 ? flops / timing.seconds / 1e9 / (kernel * timing.threads) : null,
      recursion_cpu_share: timing?.cpuSeconds && kernel > 0 && !c.f32 ? flops / timing.cpuSeconds / 1e9 / kernel : null,
      peak_rss_mb: peak,
      ref_seconds: null,
      ref_note: '',
      ref_ratio: null,
      max_rel_diff_vs_ref: null,
      torch_seconds: null,
      torch_peak_rss_mb: null,
      torch_ratio: null,
      torch_zero_lags: null,
      our_smallest_log10: Math.min(...lags.map((l) => l.log10_mean ?? Infinity)),
    };
    if (withRef) {
      let cap = c.steps - 1;
      while (cap > 8 && lagFlops(c, cap) > REF_BUDGET_FLOPS) cap = Math.floor(cap / 2);
      const runRefChild = (maxLag: number): { seconds: number; means: (number | null)[] } | null => {
        const ref = spawnSync(process.execPath, [self, '--ref', file, String(maxLag)], {
          encoding: 'utf8',
          maxBuffer: 1 << 28,
        });
        return ref.status === 0 ? (JSON.parse(ref.stdout) as { seconds: number; means: (number | null)[] }) : null;
      };
      const r = runRefChild(cap);
      // Capped: time = fixed + per-work × work; the fixed part (forward, gradients, spectra) is measured
      // with lag 0 only, and the lag part is scaled up by work.
      const fixed = cap < c.steps - 1 ? runRefChild(0) : null;
      if (r) {
        const scale = lagFlops(c, c.steps - 1) / lagFlops(c, cap);
        const base = fixed ? Math.min(fixed.seconds, r.seconds) : 0;
        row.ref_seconds = fixed ? base + (r.seconds - base) * scale : r.seconds;
        row.ref_note = fixed ? `lags 0..${cap} timed, lag part scaled ×${scale.toFixed(1)} by work` : 'full';
        row.ref_ratio = row.ref_seconds / seconds;
        let worst = 0;
        r.means.forEach((m, i) => {
          const ours = lags[i]?.log10_mean;
          if (m !== null && ours !== null && ours !== undefined)
            worst = Math.max(worst, Math.abs(10 ** (ours - m) - 1));
        });
        row.max_rel_diff_vs_ref = worst;
      }
    }
    if (torch) {
      const env = { ...process.env };
      delete env.OPENBLAS_CORETYPE;
      const t = spawnSync(
        '/usr/bin/python3',
        [
          torchScript,
          '--cell',
          c.cell,
          '--hidden',
          String(c.hidden),
          '--steps',
          String(c.steps),
          '--threads',
          '2',
          ...(c.bidirectional ? ['--bidirectional'] : []),
          ...(c.proj ? ['--proj', String(c.proj)] : []),
        ],
        {
          env,
          encoding: 'utf8',
        },
      );
      const line = t.stdout.trim().split('\n').pop();
      if (t.status === 0 && line) {
        const j = JSON.parse(line) as { seconds: number; peak_rss_mb: number; lag_mean_last: number[] };
        row.torch_seconds = j.seconds;
        row.torch_peak_rss_mb = j.peak_rss_mb;
        row.torch_ratio = j.seconds / seconds;
        row.torch_zero_lags = j.lag_mean_last.filter((x) => x === 0).length;
      } else {
        row.ref_note += ` (torch failed: ${t.stderr.trim().split('\n').pop() ?? ''})`;
      }
    }
    rows.push(row);
    printRow(row);
  }
  printPrecisionRatios(rows);
  const out = path.join(root, 'test-results');
  fs.mkdirSync(out, { recursive: true });
  let track: TrackRow[] = [];
  if (!argv.includes('--no-track') && (!only || only.split(',').includes('track'))) {
    track = runTrackBench(cli);
    for (const r of track) console.log(`${r.config.padEnd(60)} ${r.seconds.toFixed(2)} s  (${r.entries} entries)`);
  }
  let scale: ScaleRow[] = [];
  if (!argv.includes('--no-scale') && (!only || only.split(',').includes('scale'))) {
    console.log('\nscale (default settings; PyTorch: tools/bench/torch_scale.py, exact gradient of the same batch)');
    scale = runScaleBench(cli, root, tmp, rssHook, torch);
  }
  fs.writeFileSync(
    path.join(out, 'bench.json'),
    JSON.stringify({ machine: { cpus: os.cpus().length, cpu, node: process.version }, rows, track, scale }, null, 2),
  );
  console.log(`\nwritten: test-results/bench.json`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** The engine's recursion timing: the CLI's `{"lag_recursion": …}` line on stderr (RNN_GRADIENTS_LAG_TIMING=1). */
function recursionTiming(stderr: string): { seconds: number; threads: number; cpuSeconds: number | null } | null {
  for (const line of stderr.split('\n').reverse()) {
    if (!line.startsWith('{"lag_recursion"')) continue;
    const t = (
      JSON.parse(line) as { lag_recursion: { seconds: number; threads: number; cpuSeconds?: (number | null)[] } }
    ).lag_recursion;
    // The threads' CPU seconds inside their walks, summed (null when a thread's is unknown).
    const cpu = t.cpuSeconds ?? [];
    const cpuSeconds =
      cpu.length > 0 && cpu.every((c) => c !== null && c > 0) ? cpu.reduce((a, c) => a! + c!, 0)! : null;
    return t.seconds > 0 ? { seconds: t.seconds, threads: t.threads, cpuSeconds } : null;
  }
  return null;
}

/** f32 / f64 of the whole run and of the recursion, for every `:f32` row whose float64 row also ran. */
function printPrecisionRatios(rows: Row[]): void {
  for (const r of rows) {
    if (!r.config.endsWith(' f32')) continue;
    const base = rows.find((b) => b.config === r.config.slice(0, -4));
    if (!base) continue;
    const rec =
      r.recursion_seconds !== null && base.recursion_seconds !== null
        ? (r.recursion_seconds / base.recursion_seconds).toFixed(2)
        : '—';
    console.log(
      `${r.config.padEnd(24)} f32 / f64: whole run ${(r.seconds / base.seconds).toFixed(2)}, recursion ${rec}`,
    );
  }
}

function pct(x: number | null): string {
  return x === null ? '—' : `${Math.round(100 * x)}%`;
}

function printRow(r: Row): void {
  const f = (x: number | null, d = 2): string => (x === null ? '—' : x.toFixed(d));
  console.log(
    `${r.config.padEnd(24)} ${f(r.seconds)} s  ${f(r.gflops, 1)} GFLOP/s (${pct(r.kernel_share)} of kernel, whole run)` +
      `  recursion ${f(r.recursion_seconds)} s on ${r.recursion_threads ?? '—'} threads, ${f(r.recursion_gflops, 1)} GFLOP/s (${pct(r.recursion_kernel_share)} of kernel, recursion; ${pct(r.recursion_cpu_share)} per CPU-second)` +
      `  ${f(r.peak_rss_mb, 0)} MB peak` +
      `  | plain ref ${f(r.ref_seconds)} s (×${f(r.ref_ratio, 1)} slower; ${r.ref_note}; lag means within ${r.max_rel_diff_vs_ref === null ? '—' : r.max_rel_diff_vs_ref.toExponential(1)})` +
      (r.torch_seconds !== null
        ? `  | PyTorch ${f(r.torch_seconds)} s, ${f(r.torch_peak_rss_mb, 0)} MB: ours ${r.torch_ratio! >= 1 ? `${f(r.torch_ratio)}× faster` : `${f(1 / r.torch_ratio!)}× slower`}` +
          (r.torch_zero_lags
            ? `; PyTorch's last ${r.torch_zero_lags} lag means are 0, ours reach 1e${Math.floor(r.our_smallest_log10 ?? 0)}`
            : '')
        : ''),
  );
}

main();
