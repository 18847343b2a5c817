// The terminal face of a timeline: one row per step, then the findings.
import { formatShort } from '../engine/report/format';
import { layerLabel } from '../engine/report/layers';
import type { TimelineEntry, TimelineFinding, TimelineLayer, TimelineReport } from '../engine/timeline/types';

function num(x: number | null | undefined): string {
  return x === null || x === undefined ? '—' : formatShort(x);
}

function rate(r: number | null): string {
  return r === null ? '—' : `${r >= 0 ? '+' : '−'}${Math.abs(r).toFixed(3)}`;
}

function layerCell(l: TimelineLayer): string {
  return `${l.regime} ${rate(l.log10_rate_per_step)} σ ${formatShort(l.sigma_max)}`;
}

function layerTitle(l: { layer: number; direction: string }): string {
  return layerLabel(l.layer, l.direction === 'reverse' ? 'reverse' : 'forward');
}

/** The layer columns of a set of entries (every layer/direction any entry has, in first-seen order). */
function layerColumns(entries: TimelineEntry[]): { layer: number; direction: string }[] {
  const cols: { layer: number; direction: string }[] = [];
  for (const e of entries)
    for (const l of e.layers ?? [])
      if (!cols.some((c) => c.layer === l.layer && c.direction === l.direction))
        cols.push({ layer: l.layer, direction: l.direction });
  return cols;
}

/** The cells of one entry's row, given the layer columns and the timeline findings at its step. */
function rowCells(
  e: TimelineEntry,
  cols: { layer: number; direction: string }[],
  findings: TimelineFinding[],
): string[] {
  const marks = findings.filter((f) => f.step === e.step).map((f) => f.code);
  if (e.error !== undefined) {
    const first = e.error.split('\n')[0];
    return [String(e.step), 'error', '', ...cols.map(() => ''), '', `${first}  (${e.file})`];
  }
  const layerCells = cols.map((c) => {
    const l = e.layers?.find((x) => x.layer === c.layer && x.direction === c.direction);
    return l ? layerCell(l) : '—';
  });
  return [
    String(e.step),
    num(e.loss),
    num(e.grad_norm),
    ...layerCells,
    num(e.recommended?.clip_norm),
    [...marks, ...(e.codes ?? [])].join(' '),
  ];
}

function pad(cells: string[][], rightAligned: boolean[]): string[] {
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => [...(r[i] ?? '')].length)));
  return cells.map((r) =>
    r
      .map((c, i) => {
        const fill = ' '.repeat(widths[i] - [...c].length);
        return i === r.length - 1 ? c : rightAligned[i] ? fill + c : c + fill;
      })
      .join('  ')
      .trimEnd(),
  );
}

function header(cols: { layer: number; direction: string }[]): string[] {
  return ['step', 'loss', 'grad norm', ...cols.map(layerTitle), 'clip_norm', 'findings'];
}

function alignment(cols: unknown[]): boolean[] {
  return [true, true, true, ...cols.map(() => false), true, false];
}

/** A finding as one line (or more, wrapped by the terminal). */
export function formatFinding(f: TimelineFinding): string {
  return `  ${f.severity.padEnd(7)} ${f.code} at step ${f.step}: ${f.message}`;
}

/** The whole timeline as text: a header, the table, the findings. */
export function formatTimeline(t: TimelineReport, title: string): string {
  const cols = layerColumns(t.entries);
  const lines = pad([header(cols), ...t.entries.map((e) => rowCells(e, cols, t.findings))], alignment(cols));
  const errors = t.entries.filter((e) => e.error !== undefined);
  const out = [
    `${title}: ${t.entries.length} checkpoint${t.entries.length === 1 ? '' : 's'}` +
      (errors.length ? `, ${errors.length} could not be analyzed` : ''),
    '',
    ...lines,
    '',
  ];
  if (errors.length) {
    out.push('Errors:');
    for (const e of errors) for (const l of e.error!.split('\n')) out.push(`  ${l}`);
    out.push('');
  }
  out.push(t.findings.length ? 'Findings:' : 'Findings: none (no regime change, gradient-norm spike or clip drift).');
  for (const f of t.findings) out.push(formatFinding(f));
  return out.join('\n') + '\n';
}

/**
 * One row for `--watch` (text): the entry with its layers labelled, since the columns of later entries
 * are not known yet.
 */
export function formatWatchRow(e: TimelineEntry, findings: TimelineFinding[]): string {
  if (e.error !== undefined) return `step ${e.step}  ${e.file}  error: ${e.error.split('\n').join('; ')}\n`;
  const parts = [
    `step ${e.step}`,
    `loss ${num(e.loss)}`,
    `grad norm ${num(e.grad_norm)}`,
    ...(e.layers ?? []).map((l) => `${layerTitle(l)} ${layerCell(l)}`),
    `clip_norm ${num(e.recommended?.clip_norm)}`,
    e.file,
  ];
  return parts.join('  ') + '\n' + findings.map((f) => formatFinding(f) + '\n').join('');
}
