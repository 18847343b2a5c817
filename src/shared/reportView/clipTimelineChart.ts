// The timeline's clipping chart: the recommended clip_norm of each checkpoint against the step (log10 axis),
// to see how the right threshold drifted.
import type { TimelineReport } from '../../engine/timeline/types';
import type { XY } from '../decimate';
import { extent, log10Axis, type Log10Axis } from './axis';
import { analyzed, markers, stepRange, type TimelineMarker } from './timelineCommon';

export interface ClipTimelineModel {
  /** (step, log10 recommended clip_norm). */
  points: XY[];
  axis: Log10Axis;
  steps: { min: number; max: number };
  markers: TimelineMarker[];
}

export function clipTimelineModel(t: TimelineReport): ClipTimelineModel {
  const points: XY[] = [];
  for (const e of analyzed(t)) {
    const c = e.recommended?.clip_norm;
    if (typeof c === 'number' && c > 0 && Number.isFinite(c)) points.push({ x: e.step, y: Math.log10(c) });
  }
  const { lo, hi } = extent([points]);
  return { points, axis: log10Axis(lo, hi, 5), steps: stepRange(t), markers: markers(t) };
}
