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
}

export type CliArgs = AnalyzeArgs | { command: 'help' } | { command: 'version' };

export const USAGE = `Usage: rnn-gradients analyze FILE [--json] [--gradients] [--max-lag N] [--fail-on exploding|vanishing|any] [--precision f64|f32]

Analyzes the gradients of the recurrent network described by FILE (*.rnn.json):
how far gradient signal survives back through time, which layer vanishes or
explodes, and which clipping thresholds to use.

Options:
  --json            print the report (report-format.md) as JSON
  --gradients       include every gradient value in the JSON report
  --max-lag N       compute lags 0..N only (cost O(T·N·H²) instead of O(T²·H²))
  --fail-on KIND    exit 1 when a layer is exploding, vanishing, or either (any)
  --precision P     f64 (default: exact to about 1e-12) or f32 (faster lag products with float64
                    accumulation; lag figures within about 1e-4 relative)
  -h, --help        show this help
  --version         show the version

Exit codes: 0 analysis done; 1 --fail-on matched; 2 wrong model file or usage; 3 internal error.
`;

/** Parses argv (without node and the script); returns the arguments or a usage error message. */
export function parseArgs(argv: string[]): CliArgs | { error: string } {
  if (argv.length === 0 || argv.includes('-h') || argv.includes('--help') || argv[0] === 'help')
    return { command: 'help' };
  if (argv[0] === '--version' || argv[0] === 'version') return { command: 'version' };
  if (argv[0] !== 'analyze') return { error: `unknown command "${argv[0]}" (expected "analyze")` };
  const out: AnalyzeArgs = {
    command: 'analyze',
    file: '',
    json: false,
    gradients: false,
    maxLag: null,
    failOn: null,
    precision: 'f64',
  };
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = (): string | undefined => (inline !== undefined ? inline : argv[++i]);
    switch (flag) {
      case '--json':
        out.json = true;
        break;
      case '--gradients':
        out.gradients = true;
        break;
      case '--max-lag': {
        const v = value();
        if (v === undefined || !/^\d+$/.test(v))
          return {
            error: `--max-lag needs a non-negative whole number, got ${v === undefined ? 'nothing' : `"${v}"`}`,
          };
        out.maxLag = Number(v);
        break;
      }
      case '--fail-on': {
        const v = value();
        if (v !== 'exploding' && v !== 'vanishing' && v !== 'any')
          return {
            error: `--fail-on takes exploding, vanishing or any, got ${v === undefined ? 'nothing' : `"${v}"`}`,
          };
        out.failOn = v;
        break;
      }
      case '--precision': {
        const v = value();
        if (v !== 'f64' && v !== 'f32')
          return { error: `--precision takes f64 or f32, got ${v === undefined ? 'nothing' : `"${v}"`}` };
        out.precision = v;
        break;
      }
      default:
        if (a.startsWith('-')) return { error: `unknown option "${a}"` };
        if (out.file) return { error: `one model file at a time (got "${out.file}" and "${a}")` };
        out.file = a;
    }
  }
  if (!out.file) return { error: 'analyze needs a model file' };
  return out;
}
