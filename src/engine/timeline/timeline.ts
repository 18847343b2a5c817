// Timeline entries from single-checkpoint reports, their order, and the findings about the run
// (shared/spec/gates-and-timeline.md section 2). Pure: no file system, used by the CLI, the extension
// host and the report panel.
import type { Report } from '../report/types';
import { formatShort } from '../report/format';
import type {
  StepSource,
  TimelineArchitecture,
  TimelineEntry,
  TimelineFinding,
  TimelineLayer,
  TimelineReport,
} from './types';

/** An entry's grad_norm above this many times the median of the entries before it is a spike. */
export const SPIKE_FACTOR = 10;
/** The last entry's recommended clip_norm more than this factor away from the first's is a drift. */
export const DRIFT_FACTOR = 4;

/** The figures of one checkpoint's report, as a timeline entry. */
export function entryFromReport(report: Report, file: string, step: number, stepSource?: StepSource): TimelineEntry {
  const layers: TimelineLayer[] = report.layers.map((l) => ({
    layer: l.layer,
    // Reports of bidirectional stacks name each direction; older reports have forward layers only.
    direction: (l as { direction?: string }).direction ?? 'forward',
    regime: l.regime,
    log10_rate_per_step: l.evidence?.log10_rate_per_step ?? null,
    sigma_max: l.sigma_max,
  }));
  const codes: string[] = [];
  for (const f of report.findings) if (!codes.includes(f.code)) codes.push(f.code);
  const entry: TimelineEntry = { file, step };
  if (stepSource) entry.step_source = stepSource;
  entry.loss = report.loss;
  entry.grad_norm = report.grad_norm;
  entry.layers = layers;
  entry.recommended = {
    clip_norm: report.clipping.recommended.clip_norm,
    clip_value: report.clipping.recommended.clip_value,
  };
  entry.codes = codes;
  entry.model = {
    cell: report.model.cell,
    input_size: report.model.input_size,
    hidden_size: report.model.hidden_size,
    num_layers: report.model.num_layers,
    output_size: report.model.output_size,
  };
  return entry;
}

/** An entry for a checkpoint that could not be analyzed. */
export function errorEntry(file: string, step: number, error: string, stepSource?: StepSource): TimelineEntry {
  const entry: TimelineEntry = { file, step };
  if (stepSource) entry.step_source = stepSource;
  entry.error = error;
  return entry;
}

/** Entries by step; equal steps by file name. */
export function compareEntries(a: { step: number; file: string }, b: { step: number; file: string }): number {
  return a.step - b.step || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0);
}

/** Numeric order of names: file names compared with their digit runs as numbers ("step_20" < "step_100"). */
export function compareNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true }) || (a < b ? -1 : a > b ? 1 : 0);
}

/**
 * The last integer in a file name (its base name, extension dropped): `run2_step_1000.pt` → 1000,
 * `epoch=0-step=230.ckpt` → 230; undefined when there is none or it is not a safe integer.
 */
export function stepFromName(fileName: string): number | undefined {
  let base = fileName.replace(/^.*[\\/]/, '');
  base = base.replace(/\.rnn\.json$/i, '').replace(/\.[A-Za-z][A-Za-z0-9]*$/, '');
  const runs = base.match(/\d+/g);
  if (!runs) return undefined;
  const n = Number(runs[runs.length - 1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The integer under step, global_step, iteration or epoch (first found, in that order). */
export function stepFromMeta(
  meta: Partial<Record<'step' | 'global_step' | 'iteration' | 'epoch', unknown>> | undefined,
): { step: number; source: StepSource } | undefined {
  if (!meta) return undefined;
  for (const key of ['step', 'global_step', 'iteration', 'epoch'] as const) {
    const v = meta[key];
    if (typeof v === 'number' && Number.isSafeInteger(v)) return { step: v, source: key };
  }
  return undefined;
}

function archKey(a: TimelineArchitecture): string {
  return `${a.cell} input ${a.input_size}, hidden ${a.hidden_size}, ${a.num_layers} layer${a.num_layers === 1 ? '' : 's'}, output ${a.output_size}`;
}

/** The architecture most entries share (ties: the earliest), or undefined without analyzed entries. */
export function referenceArchitecture(entries: TimelineEntry[]): TimelineArchitecture | undefined {
  const counts = new Map<string, { arch: TimelineArchitecture; count: number }>();
  for (const e of entries) {
    if (!e.model) continue;
    const k = archKey(e.model);
    const c = counts.get(k);
    if (c) c.count++;
    else counts.set(k, { arch: e.model, count: 1 });
  }
  let best: { arch: TimelineArchitecture; count: number } | undefined;
  for (const c of counts.values()) if (!best || c.count > best.count) best = c;
  return best?.arch;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function layerName(layer: number, direction: string): string {
  return direction === 'forward' ? `Layer ${layer}` : `Layer ${layer} (${direction})`;
}

function rate(r: number | null): string {
  if (r === null) return '—';
  return `${r >= 0 ? '+' : '−'}${Math.abs(r).toFixed(3)}`;
}

function regimeChanges(entries: TimelineEntry[]): TimelineFinding[] {
  const out: TimelineFinding[] = [];
  const last = new Map<string, { regime: string; step: number; rate: number | null }>();
  for (const e of entries) {
    for (const l of e.layers ?? []) {
      const key = `${l.layer}/${l.direction}`;
      const prev = last.get(key);
      last.set(key, { regime: l.regime, step: e.step, rate: l.log10_rate_per_step });
      if (!prev || prev.regime === l.regime) continue;
      const bad = l.regime === 'exploding' || l.regime === 'vanishing';
      out.push({
        severity: bad ? 'warning' : 'info',
        code: 'regime-change',
        message:
          `${layerName(l.layer, l.direction)} turned from ${prev.regime} to ${l.regime} at step ${e.step} ` +
          `(log10 rate per step ${rate(prev.rate)} at step ${prev.step}, ${rate(l.log10_rate_per_step)} now).` +
          (l.regime === 'exploding'
            ? ' Clip gradients by norm from here on, or lower the learning rate.'
            : l.regime === 'vanishing'
              ? ' Gradient signal no longer reaches far back in time.'
              : ''),
        step: e.step,
        layer: l.layer,
        direction: l.direction,
        data: { from: prev.regime, to: l.regime, from_step: prev.step },
      });
    }
  }
  return out;
}

function spikes(entries: TimelineEntry[]): TimelineFinding[] {
  const out: TimelineFinding[] = [];
  const before: number[] = [];
  for (const e of entries) {
    const g = e.grad_norm;
    if (before.length > 0) {
      const med = median(before);
      if (g === null || g === undefined) {
        out.push({
          severity: 'warning',
          code: 'grad-norm-spike',
          message: `The gradient norm overflowed at step ${e.step} (median of the ${before.length} checkpoint${before.length === 1 ? '' : 's'} before: ${formatShort(med)}).`,
          step: e.step,
          data: { grad_norm: null, median_before: med, ratio: null },
        });
      } else if (g > SPIKE_FACTOR * med) {
        const ratio = g / med;
        out.push({
          severity: 'warning',
          code: 'grad-norm-spike',
          message:
            `The gradient norm spiked at step ${e.step}: ${formatShort(g)}, ${formatShort(ratio)}× the median of the ` +
            `${before.length} checkpoint${before.length === 1 ? '' : 's'} before it (${formatShort(med)}; a spike is more than ${SPIKE_FACTOR}×). ` +
            'Clip gradients by norm to bound such steps.',
          step: e.step,
          data: { grad_norm: g, median_before: med, ratio },
        });
      }
    }
    if (g !== null && g !== undefined && Number.isFinite(g)) before.push(g);
  }
  return out;
}

function drift(entries: TimelineEntry[]): TimelineFinding[] {
  const withClip = entries.filter((e) => typeof e.recommended?.clip_norm === 'number' && e.recommended.clip_norm > 0);
  if (withClip.length < 2) return [];
  const first = withClip[0];
  const last = withClip[withClip.length - 1];
  const from = first.recommended!.clip_norm!;
  const to = last.recommended!.clip_norm!;
  const ratio = to / from;
  if (ratio <= DRIFT_FACTOR && ratio >= 1 / DRIFT_FACTOR) return [];
  return [
    {
      severity: 'info',
      code: 'clip-drift',
      message:
        `The recommended clip_norm drifted from ${formatShort(from)} at step ${first.step} to ${formatShort(to)} at step ${last.step} ` +
        `(${ratio > 1 ? `${formatShort(ratio)}× higher` : `${formatShort(1 / ratio)}× lower`}; a drift is more than ${DRIFT_FACTOR}×): ` +
        'a threshold picked at the start no longer fits; re-tune it for this stage of training.',
      step: last.step,
      data: { from, to, ratio, from_step: first.step },
    },
  ];
}

function mixedArchitecture(entries: TimelineEntry[], ref: TimelineArchitecture): TimelineFinding[] {
  const out: TimelineFinding[] = [];
  for (const e of entries) {
    if (!e.model || archKey(e.model) === archKey(ref)) continue;
    out.push({
      severity: 'warning',
      code: 'mixed-architecture',
      message:
        `${e.file} (step ${e.step}) holds a different model (${archKey(e.model)}) from the rest of the run ` +
        `(${archKey(ref)}); it is left out of the timeline findings.`,
      step: e.step,
      data: { file: e.file, architecture: archKey(e.model), expected: archKey(ref) },
    });
  }
  return out;
}

/**
 * The findings of a run (entries in step order). Entries with an error, and entries whose architecture
 * differs from the one most entries share, are left out of regime-change, grad-norm-spike and clip-drift.
 */
export function timelineFindings(entries: TimelineEntry[]): TimelineFinding[] {
  const ref = referenceArchitecture(entries);
  if (!ref) return [];
  const usable = entries.filter((e) => e.model && archKey(e.model) === archKey(ref));
  const findings = [...mixedArchitecture(entries, ref), ...regimeChanges(usable), ...spikes(usable), ...drift(usable)];
  // Stable order: by step, then the order above.
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => a.f.step - b.f.step || a.i - b.i)
    .map((x) => x.f);
}

/** The timeline report of entries in any order. */
export function buildTimeline(entries: TimelineEntry[]): TimelineReport {
  const sorted = [...entries].sort(compareEntries);
  return { timeline_version: 1, entries: sorted, findings: timelineFindings(sorted) };
}
