// The scale rows of `npm run bench` (`--only scale`): `rnn-gradients analyze --json` with the default
// settings (sampled lag table within the 2 s budget; exact gradients, batch norms and clipping) on the three
// scale jobs, each in a fresh process, timed with its peak RSS, and PyTorch's exact gradient of the same
// batch (tools/bench/torch_scale.py: nn.LSTM / nn.RNN float64, 2 threads, forward plus backward of the same
// loss) in the same run.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

/** One scale job: cell, hidden size, input size, sequences, steps. */
export interface ScaleJob {
  cell: 'lstm' | 'rnn';
  H: number;
  I: number;
  B: number;
  T: number;
}

export const SCALE_JOBS: ScaleJob[] = [
  { cell: 'lstm', H: 128, I: 16, B: 256, T: 300 },
  { cell: 'rnn', H: 128, I: 16, B: 1, T: 6000 },
  { cell: 'lstm', H: 256, I: 16, B: 512, T: 1000 },
];

export interface ScaleRow {
  config: string;
  seconds: number;
  peak_rss_mb: number;
  /** lag_sampling of the report (null: exact table). */
  lag_sampling: unknown;
  torch_seconds: number | null;
  torch_peak_rss_mb: number | null;
  /** Our seconds / PyTorch's (the target for the first job: ≤ 1.5). */
  torch_ratio: number | null;
  torch_note: string;
}

export function scaleName(j: ScaleJob): string {
  return `${j.cell} B=${j.B} T=${j.T} H=${j.H} I=${j.I}`;
}

/** Runs the scale jobs (the CLI at `cli`; PyTorch when `torch`); `rssHook` records a process's peak RSS. */
export function runScaleBench(cli: string, root: string, tmp: string, rssHook: string, torch: boolean): ScaleRow[] {
  const rows: ScaleRow[] = [];
  for (const job of SCALE_JOBS) {
    const name = scaleName(job);
    const file = path.join(tmp, `scale-${job.cell}-${job.B}-${job.T}-${job.H}.rnn.json`);
    fs.writeFileSync(
      file,
      JSON.stringify({
        name: `bench scale ${name}`,
        cell: job.cell,
        input_size: job.I,
        hidden_size: job.H,
        init: { scheme: 'pytorch', seed: 1 },
        data: { generate: { sequences: job.B, length: job.T, seed: 2 } },
        loss: 'sum',
      }),
    );
    const rssFile = path.join(tmp, 'scale-rss.txt');
    const t0 = process.hrtime.bigint();
    const run = spawnSync(process.execPath, ['--require', rssHook, cli, 'analyze', file, '--json'], {
      cwd: tmp,
      env: { ...process.env, RNN_BENCH_RSS: rssFile },
      maxBuffer: 1 << 30,
      encoding: 'utf8',
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    if (run.status !== 0) throw new Error(`${name}: the CLI failed: ${run.stderr}`);
    const report = JSON.parse(run.stdout) as { lag_sampling: unknown };
    const row: ScaleRow = {
      config: name,
      seconds,
      peak_rss_mb: Number(fs.readFileSync(rssFile, 'utf8')) / 1024,
      lag_sampling: report.lag_sampling,
      torch_seconds: null,
      torch_peak_rss_mb: null,
      torch_ratio: null,
      torch_note: torch ? '' : 'PyTorch not available',
    };
    if (torch) {
      // PyTorch's float64 LSTM would take many minutes on the large job: it runs a part of the batch (its cost
      // is linear in B at a fixed T and H), scaled up; the others best of 2 after a warm-up.
      const part = job.B * job.T * job.H > 1e7 ? Math.max(1, Math.floor(job.B / 8)) : job.B;
      const repeats = part < job.B ? '1' : '2';
      const script = path.join(root, 'tools', 'bench', 'torch_scale.py');
      const args = [script, job.cell, String(job.H), String(job.I), String(part), String(job.T), repeats];
      const t = spawnSync('/usr/bin/python3', args, { encoding: 'utf8', maxBuffer: 1 << 20 });
      if (t.status === 0) {
        const j = JSON.parse(t.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; peak_rss_bytes: number };
        row.torch_seconds = (j.seconds * job.B) / part;
        row.torch_peak_rss_mb = j.peak_rss_bytes / 2 ** 20;
        row.torch_ratio = seconds / row.torch_seconds;
        if (part < job.B)
          row.torch_note = `PyTorch timed on ${part} of the ${job.B} sequences, scaled ×${job.B / part}`;
      } else {
        row.torch_note = `torch failed: ${t.stderr.trim().split('\n').pop() ?? ''}`;
      }
    }
    rows.push(row);
    printScaleRow(row);
  }
  return rows;
}

function printScaleRow(r: ScaleRow): void {
  const f = (x: number | null, d = 2): string => (x === null ? '—' : x.toFixed(d));
  console.log(
    `${r.config.padEnd(32)} ${f(r.seconds)} s  ${f(r.peak_rss_mb, 0)} MB peak  (${r.lag_sampling ? 'sampled lag table' : 'exact lag table'})` +
      (r.torch_seconds !== null
        ? `  | PyTorch gradient ${f(r.torch_seconds)} s, ${f(r.torch_peak_rss_mb, 0)} MB: ours/PyTorch ${f(r.torch_ratio)}` +
          (r.torch_note ? ` (${r.torch_note})` : '')
        : `  | ${r.torch_note}`),
  );
}
