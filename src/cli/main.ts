// rnn-gradients: the command-line face of the engine. Runs the analysis in the same worker the
// extension uses, prints a summary or the JSON report, and maps outcomes to exit codes.
import * as fs from 'fs';
import * as path from 'path';
import { AnalysisClient, AnalysisError } from '../worker/client';
import type { Report } from '../engine/report/types';
import { formatProblem } from '../io/position';
import { parseArgs, USAGE, type AnalyzeArgs, type FailOn } from './args';
import { confinementRoot } from './confinement';
import { formatPartial, formatSummary } from './summary';
import { track } from './track';
import { runInit } from './init';
import { RemainingTime, formatRemaining } from '../shared/remainingTime';
import { checkpointModelText, isWeightsFileName } from '../engine/model/checkpointSource';

const EXIT_OK = 0;
const EXIT_FAIL_ON = 1;
const EXIT_INPUT = 2;
const EXIT_INTERNAL = 3;
/** Interrupted (SIGINT, Ctrl+C): 128 + the signal number, as shells report it. */
const EXIT_INTERRUPTED = 130;

/** Largest model file read, in bytes. */
/**
 * Set to 1: `analyze` writes the full lag table's recursion timing as one JSON line on stderr (internal, read by
 * `npm run bench`; not part of the report or of the documented CLI).
 */
const LAG_TIMING_ENV = 'RNN_GRADIENTS_LAG_TIMING';

const MAX_MODEL_FILE_BYTES = 256 * 1024 * 1024;

function version(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

function isDirectory(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Whether the report matches --fail-on: `exploding` also matches an overflow (the loss, a gradient or the lag
 * table's norms); an undetermined layer matches nothing (the summary and a trend-undetermined finding say so).
 */
export function failOnMatches(report: Report, failOn: FailOn): boolean {
  const exploding =
    report.layers.some((l) => l.regime === 'exploding') ||
    report.findings.some((f) => f.code === 'non-finite' || f.code === 'lag-non-finite');
  const vanishing = report.layers.some((l) => l.regime === 'vanishing');
  return failOn === 'exploding' ? exploding : failOn === 'vanishing' ? vanishing : exploding || vanishing;
}

/**
 * The model text to analyze: the file's, or for a checkpoint named directly the model file it stands for
 * (`{"weights": NAME}`, checkpoints.md section 1), whose problems are shown at 1:1 of the checkpoint.
 */
function readModelText(file: string): { text: string; checkpoint: boolean } {
  const stat = fs.statSync(file);
  if (!stat.isFile()) throw new Error('not a regular file');
  if (isWeightsFileName(file)) return { text: checkpointModelText(file), checkpoint: true };
  if (stat.size > MAX_MODEL_FILE_BYTES) throw new Error(`larger than ${MAX_MODEL_FILE_BYTES} bytes`);
  // A UTF-8 byte order mark is not part of the text (as in the editor): positions count from after it.
  return { text: fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''), checkpoint: false };
}

async function analyze(args: AnalyzeArgs): Promise<number> {
  const file = args.file;
  let text: string;
  let checkpoint: boolean;
  try {
    ({ text, checkpoint } = readModelText(file));
  } catch (err) {
    process.stderr.write(
      `${file}:1:1: cannot read the model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`,
    );
    return EXIT_INPUT;
  }
  const rootDir = confinementRoot(file, process.cwd(), args.workspace);
  if (args.workspace !== null && !isDirectory(rootDir)) {
    process.stderr.write(`rnn-gradients: --workspace ${args.workspace} is not a folder\n`);
    return EXIT_INPUT;
  }
  const client = new AnalysisClient(path.join(__dirname, 'worker.js'));
  const abort = new AbortController();
  const onSigint = (): void => abort.abort();
  process.once('SIGINT', onSigint);
  const started = Date.now();
  const tty = process.stderr.isTTY === true;
  let progressShown = false;
  const remaining = new RemainingTime(started);
  try {
    const result = await client.analyze(
      {
        text,
        filePath: path.resolve(file),
        rootDir,
        displayPath: file,
        gradients: args.gradients,
        maxLag: args.maxLag,
        precision: args.precision,
        partial: tty,
        ...(args.lagBudget !== null ? { lagBudgetSeconds: args.lagBudget } : {}),
        ...(args.lagSeed !== null ? { lagSeed: args.lagSeed } : {}),
        exact: args.exact,
      },
      {
        signal: abort.signal,
        onProgress: (p) => {
          if (!tty) return;
          if (p.partial) {
            // The short-lag part of the table, while the full table computes.
            process.stderr.write('\r\x1b[K' + formatPartial(p.partial));
            progressShown = true;
          }
          const now = Date.now();
          const left = remaining.update(p.fraction, now);
          if (now - started < 1000) return;
          progressShown = true;
          const eta = left === undefined ? '' : ` · ${formatRemaining(left)}`;
          process.stderr.write(`\r\x1b[Kanalyzing ${file}: ${p.phase} ${Math.round(100 * p.fraction)}%${eta}`);
        },
      },
    );
    if (progressShown) process.stderr.write('\r\x1b[K');
    if (!result.ok) {
      for (const p of result.problems) {
        // A checkpoint has no text of its own: its problems sit at 1:1.
        const where = checkpoint ? { ...p, range: { offset: 0, length: 0 } } : p;
        process.stderr.write(formatProblem(file, checkpoint ? '' : text, where) + '\n');
      }
      return EXIT_INPUT;
    }
    process.stdout.write(args.json ? JSON.stringify(result.report, null, 2) + '\n' : formatSummary(result.report));
    // Internal, for `npm run bench`: the lag recursion's own wall time, one JSON line on stderr.
    if (process.env[LAG_TIMING_ENV] === '1' && result.lagTiming)
      process.stderr.write(JSON.stringify({ lag_recursion: result.lagTiming }) + '\n');
    return args.failOn && failOnMatches(result.report, args.failOn) ? EXIT_FAIL_ON : EXIT_OK;
  } catch (err) {
    if (progressShown) process.stderr.write('\r\x1b[K');
    if (err instanceof AnalysisError && err.reason === 'cancelled') {
      process.stderr.write('rnn-gradients: cancelled\n');
      return EXIT_INTERRUPTED;
    }
    process.stderr.write(`rnn-gradients: internal error: ${(err as Error).message}\n`);
    return EXIT_INTERNAL;
  } finally {
    process.off('SIGINT', onSigint);
    client.dispose();
  }
}

async function main(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  if ('error' in args) {
    process.stderr.write(`rnn-gradients: ${args.error}\n\n${USAGE}`);
    return EXIT_INPUT;
  }
  switch (args.command) {
    case 'help':
      process.stdout.write(USAGE);
      return EXIT_OK;
    case 'version':
      process.stdout.write(`rnn-gradients ${version()}\n`);
      return EXIT_OK;
    case 'analyze':
      return analyze(args);
    case 'track':
      return track(args, path.join(__dirname, 'worker.js'));
    case 'init':
      return runInit(
        args,
        (s) => process.stdout.write(s),
        (s) => process.stderr.write(s),
      );
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`rnn-gradients: internal error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT_INTERNAL;
  },
);
