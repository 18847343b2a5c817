// Command-line arguments of `rnn-gradients`.
import type { Precision } from '../engine/kernels';

export type FailOn = 'exploding' | 'vanishing' | 'any';

export interface AnalyzeArgs {
  command: 'analyze';
  file: string;
  json: boolean;
  gradients: boolean;
  maxLag: number | null;
  failOn: FailOn | null;
  precision: Precision;
  /** --lag-budget SECONDS (null: the default). */
  lagBudget: number | null;
  /** --exact: the exact lag table whatever it costs. */
  exact: boolean;
  /** --lag-seed N (null: the default). */
  lagSeed: number | null;
  /** --workspace DIR: the folder weight files must stay inside; null: the rule of cli/confinement.ts. */
  workspace: string | null;
}

export interface TrackArgs {
  command: 'track';
  /** Files, folders and globs. */
  inputs: string[];
  /** The base model file (--model). */
  model: string | null;
  json: boolean;
  watch: boolean;
  maxLag: number | null;
  precision: Precision;
  /** Analyses side by side (--jobs; null: one per core). */
  jobs: number | null;
  /** --no-cache: analyze every checkpoint, read and write no cache. */
  cache: boolean;
}

export interface InitArgs {
  command: 'init';
  /** The checkpoint. */
  file: string;
  /** The model file to write (default: next to the checkpoint, NAME.rnn.json). */
  output: string | null;
  /** The module to select (default: the first one the engine can analyze). */
  module: string | null;
  /** Overwrite an existing output file. */
  force: boolean;
}

export type CliArgs = AnalyzeArgs | TrackArgs | InitArgs | { command: 'help' } | { command: 'version' };

export const USAGE = `Usage: rnn-gradients analyze FILE [--json] [--gradients] [--max-lag N] [--fail-on exploding|vanishing|any] [--precision f64|f32]
                             [--lag-budget SECONDS | --exact] [--lag-seed N] [--workspace DIR]
       rnn-gradients track CHECKPOINTS... [--model BASE.rnn.json] [--json] [--watch] [--jobs N] [--no-cache]
       rnn-gradients init CHECKPOINT [-o NAME.rnn.json] [--module NAME] [--force]

analyze: analyzes the gradients of the recurrent network described by FILE
(*.rnn.json, or a checkpoint: .pt .pth .bin .ckpt .onnx .keras .h5 .hdf5 .npz
.safetensors, analyzed as if a model file said {"weights": FILE}): how far
gradient signal survives back through time, which layer vanishes or explodes,
and which clipping thresholds to use.

track: analyzes a series of checkpoints saved while a model trains (files,
folders, globs) and prints the timeline: one row per step (loss, gradient
norm, each layer's regime, rate and σ_max, the recommended clip_norm) and the
findings regime-change, grad-norm-spike and clip-drift. With --model, each
checkpoint replaces the "weights" of BASE.rnn.json (its data, loss, module,
readout and training apply to all); without, each is analyzed on its own.

init: writes a commented model file for CHECKPOINT next to it (NAME.rnn.json):
the recurrent module found (every candidate listed), its sizes, and a data
section to fill in (synthetic data until then).

Options:
  --json            print the report (report-format.md) as JSON; track: the timeline report
                    (one JSON object per entry and line with --watch)
  --gradients       include every gradient value in the JSON report
  --max-lag N       compute lags 0..N only (cost O(T·N·H²) instead of O(T²·H²))
  --fail-on KIND    exit 1 when a layer is exploding, vanishing, or either (any)
  --precision P     f64 (default: exact to about 1e-12) or f32 (float32 lag products, faster; lag
                    figures within 1e-4 in log10 on the tested models, see the README)
  --lag-budget S    seconds of lag-table work allowed (default 2); a larger table is estimated from a
                    seeded random sample of its loss terms, with a 95% interval per lag; 0: always exact
  --exact           the exact lag table, whatever it costs
  --lag-seed N      seed of the sampled table's generator (default 1)
  --workspace DIR   analyze: weight files the model names must stay inside DIR (default: the
                    current directory when FILE is inside it, else FILE's folder)
  --model FILE      track: the base model file
  --watch           track: keep running, add each new checkpoint once it is completely written
                    (size stable for 1 s); Ctrl+C stops (exit 130)
  --jobs N          track: analyses side by side (default: one per core)
  --no-cache        track: neither read nor write the cache of analyzed checkpoints
  -o FILE           init: the model file to write
  --module NAME     init: the recurrent module to select
  --force           init: overwrite an existing model file
  -h, --help        show this help
  --version         show the version

Exit codes: 0 analysis done; 1 --fail-on matched; 2 wrong model file or usage (track: also when a
checkpoint could not be analyzed; the others are still reported); 3 internal error; 130 stopped by
Ctrl+C.
`;

/** How an option's missing or wrong value is shown in a message. */
function shown(v: string | undefined): string {
  return v === undefined ? 'nothing' : `"${v}"`;
}

/**
 * Handles one token: `flag` is the option name (the part before `=` of `--flag=value`), `token` the whole
 * argument, and `value()` the option's value (after `=`, else the next argument, consumed). Returns an error
 * message, or nothing.
 */
type OptionHandler = (flag: string, token: string, value: () => string | undefined) => string | undefined;

/** Walks the arguments after the command, one option reader for every command; returns the first error. */
function readOptions(argv: string[], handle: OptionHandler): string | null {
  let i = 1;
  while (i < argv.length) {
    const token = argv[i++];
    const eq = token.startsWith('--') ? token.indexOf('=') : -1;
    const flag = eq > 0 ? token.slice(0, eq) : token;
    const inline = eq > 0 ? token.slice(eq + 1) : undefined;
    const error = handle(flag, token, () => (inline !== undefined ? inline : argv[i++]));
    if (error !== undefined) return error;
  }
  return null;
}

/** `--max-lag N` (analyze and track). */
function maxLagValue(v: string | undefined): number | { error: string } {
  return v !== undefined && /^\d+$/.test(v)
    ? Number(v)
    : { error: `--max-lag needs a non-negative whole number, got ${shown(v)}` };
}

/** `--precision f64|f32` (analyze and track). */
function precisionValue(v: string | undefined): Precision | { error: string } {
  return v === 'f64' || v === 'f32' ? v : { error: `--precision takes f64 or f32, got ${shown(v)}` };
}

/** Parses argv (without node and the script); returns the arguments or a usage error message. */
export function parseArgs(argv: string[]): CliArgs | { error: string } {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv[0] === 'help')
    return { command: 'help' };
  if (argv[0] === '--version' || argv[0] === 'version') return { command: 'version' };
  if (argv[0] === 'track') return parseTrackArgs(argv);
  if (argv[0] === 'init') return parseInitArgs(argv);
  if (argv[0] !== 'analyze') return { error: `unknown command "${argv[0]}" (expected "analyze", "track" or "init")` };
  const out: AnalyzeArgs = {
    command: 'analyze',
    file: '',
    json: false,
    gradients: false,
    maxLag: null,
    failOn: null,
    precision: 'f64',
    lagBudget: null,
    exact: false,
    lagSeed: null,
    workspace: null,
  };
  const error = readOptions(argv, (flag, token, value) => {
    switch (flag) {
      case '--json':
        out.json = true;
        return;
      case '--gradients':
        out.gradients = true;
        return;
      case '--max-lag': {
        const n = maxLagValue(value());
        if (typeof n !== 'number') return n.error;
        out.maxLag = n;
        return;
      }
      case '--fail-on': {
        const v = value();
        if (v !== 'exploding' && v !== 'vanishing' && v !== 'any')
          return `--fail-on takes exploding, vanishing or any, got ${shown(v)}`;
        out.failOn = v;
        return;
      }
      case '--precision': {
        const p = precisionValue(value());
        if (typeof p !== 'string') return p.error;
        out.precision = p;
        return;
      }
      case '--lag-budget': {
        const v = value();
        if (v === undefined || !/^\d+(\.\d+)?$/.test(v) || !Number.isFinite(Number(v)))
          return `--lag-budget needs a number of seconds (0 or more), got ${shown(v)}`;
        out.lagBudget = Number(v);
        return;
      }
      case '--exact':
        out.exact = true;
        return;
      case '--lag-seed': {
        const v = value();
        if (v === undefined || !/^\d+$/.test(v) || Number(v) > 0xffffffff)
          return `--lag-seed needs a whole number from 0 to 4294967295, got ${shown(v)}`;
        out.lagSeed = Number(v);
        return;
      }
      case '--workspace': {
        const v = value();
        if (v === undefined || v === '') return '--workspace needs a folder';
        out.workspace = v;
        return;
      }
      default:
        if (token.startsWith('-')) return `unknown option "${token}"`;
        if (out.file) return `one model file at a time (got "${out.file}" and "${token}")`;
        out.file = token;
    }
  });
  if (error !== null) return { error };
  if (!out.file) return { error: 'analyze needs a model file' };
  if (out.exact && out.lagBudget !== null) return { error: '--exact and --lag-budget exclude each other' };
  return out;
}

function parseTrackArgs(argv: string[]): TrackArgs | { error: string } {
  const out: TrackArgs = {
    command: 'track',
    inputs: [],
    model: null,
    json: false,
    watch: false,
    maxLag: null,
    precision: 'f64',
    jobs: null,
    cache: true,
  };
  const error = readOptions(argv, (flag, token, value) => {
    switch (flag) {
      case '--json':
        out.json = true;
        return;
      case '--watch':
        out.watch = true;
        return;
      case '--no-cache':
        out.cache = false;
        return;
      case '--model': {
        const v = value();
        if (v === undefined || v === '') return '--model needs a model file';
        out.model = v;
        return;
      }
      case '--max-lag': {
        const n = maxLagValue(value());
        if (typeof n !== 'number') return n.error;
        out.maxLag = n;
        return;
      }
      case '--jobs': {
        const v = value();
        if (v === undefined || !/^[1-9]\d{0,2}$/.test(v))
          return `--jobs needs a whole number from 1 to 999, got ${shown(v)}`;
        out.jobs = Number(v);
        return;
      }
      case '--precision': {
        const p = precisionValue(value());
        if (typeof p !== 'string') return p.error;
        out.precision = p;
        return;
      }
      default:
        if (token.startsWith('-')) return `unknown option "${token}"`;
        out.inputs.push(token);
    }
  });
  if (error !== null) return { error };
  if (out.inputs.length === 0) return { error: 'track needs checkpoint files, folders or globs' };
  return out;
}

/** Parses `init CHECKPOINT [-o FILE] [--module NAME] [--force]`. */
function parseInitArgs(argv: string[]): InitArgs | { error: string } {
  const out: InitArgs = { command: 'init', file: '', output: null, module: null, force: false };
  const error = readOptions(argv, (flag, token, value) => {
    switch (flag) {
      case '-o':
      case '--output': {
        const v = value();
        if (v === undefined || v === '') return `${flag} needs a file name`;
        out.output = v;
        return;
      }
      case '--module': {
        const v = value();
        if (v === undefined) return '--module needs a module name';
        out.module = v;
        return;
      }
      case '--force':
        out.force = true;
        return;
      default:
        if (token.startsWith('-')) return `unknown option "${token}"`;
        if (out.file) return `one checkpoint at a time (got "${out.file}" and "${token}")`;
        out.file = token;
    }
  });
  if (error !== null) return { error };
  if (!out.file) return { error: 'init needs a checkpoint file' };
  return out;
}
