// What the timeline charts share: the analyzed entries in step order, one series per layer and direction,
// and the findings as markers at their steps. Pure (no DOM, no Chart.js).
import type { TimelineEntry, TimelineFinding, TimelineReport } from '../../engine/timeline/types';
import type { XY } from '../decimate';

/** A finding drawn as a vertical line at its step. */
export interface TimelineMarker {
  step: number;
  code: string;
  severity: string;
  /** Short text drawn on the chart ("regime-change: layer 0 vanishing → exploding"). */
  label: string;
}

/** One layer (and direction) of the run. */
export interface LayerKey {
  layer: number;
  direction: string;
  label: string;
}

/** Entries with figures (no error), in step order. */
export function analyzed(t: TimelineReport): TimelineEntry[] {
  return t.entries.filter((e) => e.error === undefined && e.layers !== undefined);
}

/** Every layer/direction any entry has, in first-seen order. */
export function layerKeys(t: TimelineReport): LayerKey[] {
  const out: LayerKey[] = [];
  for (const e of analyzed(t))
    for (const l of e.layers ?? [])
      if (!out.some((k) => k.layer === l.layer && k.direction === l.direction))
        out.push({
          layer: l.layer,
          direction: l.direction,
          label: l.direction === 'forward' ? `Layer ${l.layer}` : `Layer ${l.layer} ${l.direction}`,
        });
  return out;
}

/** A per-layer series of some figure against the step (null figures left out). */
export function layerSeries(
  t: TimelineReport,
  key: LayerKey,
  figure: (l: NonNullable<TimelineEntry['layers']>[number]) => number | null,
): XY[] {
  const out: XY[] = [];
  for (const e of analyzed(t)) {
    const l = e.layers?.find((x) => x.layer === key.layer && x.direction === key.direction);
    const y = l ? figure(l) : null;
    if (y !== null && Number.isFinite(y)) out.push({ x: e.step, y });
  }
  return out;
}

function markerLabel(f: TimelineFinding): string {
  const layer =
    f.layer !== undefined
      ? ` layer ${f.layer}${f.direction && f.direction !== 'forward' ? ` ${f.direction}` : ''}`
      : '';
  if (f.code === 'regime-change') return `${f.code}:${layer} ${String(f.data?.from)} → ${String(f.data?.to)}`;
  return f.code;
}

/** The findings as markers (the charts draw each at its step). */
export function markers(t: TimelineReport): TimelineMarker[] {
  return t.findings.map((f) => ({ step: f.step, code: f.code, severity: f.severity, label: markerLabel(f) }));
}

/** Steps of entries that could not be analyzed (drawn as gaps with a note). */
export function errorSteps(t: TimelineReport): number[] {
  return t.entries.filter((e) => e.error !== undefined).map((e) => e.step);
}

/** The step range of the run, padded so single-entry runs still have a width. */
export function stepRange(t: TimelineReport): { min: number; max: number } {
  const steps = t.entries.map((e) => e.step);
  if (steps.length === 0) return { min: 0, max: 1 };
  let min = Math.min(...steps);
  let max = Math.max(...steps);
  if (min === max) {
    min -= 1;
    max += 1;
  }
  return { min, max };
}
