// What the panel exports and how it names things: the lag table as CSV, file name stems, the model's title.
import type { Report } from '../../engine/report/types';

const CSV_COLUMNS = [
  'layer',
  'direction',
  'lag',
  'count',
  'mean',
  'min',
  'max',
  'contribution_mean',
  'log10_mean',
  'log10_min',
  'log10_max',
  'log10_contribution_mean',
] as const;

/** One CSV field: numbers as JSON writes them (full precision), null as empty, text quoted when needed. */
export function csvField(v: number | string | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  return /[",\r\n]/.test(v) || /^[=+\-@]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

/** The lag table of every layer as CSV (header row, then one row per layer and lag, CRLF line ends). */
export function lagTableCsv(report: Report): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  for (const l of report.layers) {
    for (const e of l.lags) {
      lines.push(
        [
          l.layer,
          l.direction ?? 'forward',
          e.lag,
          e.count,
          e.mean,
          e.min,
          e.max,
          e.contribution_mean,
          e.log10_mean,
          e.log10_min,
          e.log10_max,
          e.log10_contribution_mean,
        ]
          .map(csvField)
          .join(','),
      );
    }
  }
  return lines.join('\r\n') + '\r\n';
}

/** A file name stem from the report's file ("models/char.rnn.json" → "char"), safe for a save dialog. */
export function exportStem(report: Report): string {
  const base = report.file.split(/[\\/]/).pop() ?? 'report';
  const stem = base.replace(/\.rnn\.json$/i, '').replace(/\.json$/i, '');
  const safe = stem.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return safe || 'report';
}

/** The display name of the model: its `name` when set, else the file. Always user data: render as text. */
export function modelTitle(report: Report): string {
  return report.model.name && report.model.name.trim() ? report.model.name : report.file;
}
