// The timeline row of `npm run bench`: `rnn-gradients track` on 50 checkpoints of a small LSTM (H=64, T=200,
// B=8, 8 inputs; .safetensors weights of one base model), timed with one worker, with the default pool (one per
// core), and re-run on a warm cache. Each run is a fresh process, as a user runs it.
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { writeSafetensors } from '../../src/engine/model/safetensors';

export const TRACK_CHECKPOINTS = 50;
const H = 64;
const I = 8;
const T = 200;
const B = 8;

export interface TrackRow {
  config: string;
  seconds: number;
  entries: number;
}

/** Seeded uniform numbers in [−a, a) (a small LCG: the bench needs variety, not quality). */
function uniform(seed: number, n: number, a: number): number[] {
  let s = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push((s / 2 ** 32) * 2 * a - a);
  }
  return out;
}

/** Writes the base model and the checkpoints (W_hh grows a little from one checkpoint to the next). */
function writeRun(dir: string): void {
  fs.mkdirSync(path.join(dir, 'ckpt'), { recursive: true });
  const a = 1 / Math.sqrt(H);
  const wih = uniform(1, 4 * H * I, a);
  const whh = uniform(2, 4 * H * H, a);
  const bias = uniform(3, 4 * H, a);
  for (let k = 0; k < TRACK_CHECKPOINTS; k++) {
    const scale = 1 + (2 * k) / TRACK_CHECKPOINTS;
    const bytes = writeSafetensors([
      { name: 'weight_ih_l0', dtype: 'F32', shape: [4 * H, I], data: wih },
      { name: 'weight_hh_l0', dtype: 'F32', shape: [4 * H, H], data: whh.map((w) => w * scale) },
      { name: 'bias_ih_l0', dtype: 'F32', shape: [4 * H], data: bias },
      { name: 'bias_hh_l0', dtype: 'F32', shape: [4 * H], data: bias },
    ]);
    fs.writeFileSync(path.join(dir, 'ckpt', `step_${String(100 * k).padStart(5, '0')}.safetensors`), bytes);
  }
  fs.writeFileSync(
    path.join(dir, 'base.rnn.json'),
    JSON.stringify({
      name: `bench track lstm H=${H} T=${T} B=${B}`,
      cell: 'lstm',
      weights: 'ckpt/step_00000.safetensors',
      data: { generate: { sequences: B, length: T, distribution: 'normal', seed: 2 } },
      loss: 'sum',
      training: { batch_size: 4 },
    }),
  );
}

function timeTrack(cli: string, dir: string, cache: string, extra: string[]): { seconds: number; entries: number } {
  const t0 = process.hrtime.bigint();
  const run = spawnSync(process.execPath, [cli, 'track', 'ckpt', '--model', 'base.rnn.json', '--json', ...extra], {
    cwd: dir,
    env: { ...process.env, RNN_GRADIENTS_CACHE_DIR: cache },
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (run.status !== 0) throw new Error(`track failed (${run.status}): ${run.stderr}`);
  const t = JSON.parse(run.stdout) as { entries: { error?: string }[] };
  const failed = t.entries.filter((e) => e.error !== undefined);
  if (failed.length) throw new Error(`track: ${failed.length} entries failed: ${failed[0].error}`);
  return { seconds, entries: t.entries.length };
}

/** Runs the timeline rows; `cli` is dist/cli.js. */
export function runTrackBench(cli: string): TrackRow[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-bench-track-'));
  try {
    writeRun(dir);
    const name = `track ${TRACK_CHECKPOINTS} × lstm H=${H} T=${T} B=${B}`;
    const cores = Math.min(os.availableParallelism?.() ?? os.cpus().length, 8);
    const one = timeTrack(cli, dir, path.join(dir, 'cache-1'), ['--no-cache', '--jobs', '1']);
    const pool = timeTrack(cli, dir, path.join(dir, 'cache-2'), []);
    const warm = timeTrack(cli, dir, path.join(dir, 'cache-2'), []);
    return [
      { config: `${name}, 1 worker, no cache`, ...one },
      { config: `${name}, ${cores} workers (default), cold cache`, ...pool },
      { config: `${name}, warm cache (nothing new)`, ...warm },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
