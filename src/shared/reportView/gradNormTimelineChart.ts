// The timeline's gradient-norm chart: each checkpoint's global gradient norm against the step, on a log10 axis.
import type { TimelineReport } from '../../engine/timeline/types';
import type { XY } from '../decimate';
import { log10Axis, extent, type Log10Axis } from './axis';
import { analyzed, markers, stepRange, type TimelineMarker } from './timelineCommon';

export interface GradNormTimelineModel {
  /** (step, log10 grad_norm). */
  points: XY[];
  axis: Log10Axis;
  steps: { min: number; max: number };
  markers: TimelineMarker[];
  /** Steps whose gradient norm overflowed (no point; a note says so). */
  overflowSteps: number[];
}

export function gradNormTimelineModel(t: TimelineReport): GradNormTimelineModel {
  const points: XY[] = [];
  const overflowSteps: number[] = [];
  for (const e of analyzed(t)) {
    const g = e.grad_norm;
    if (g === null || g === undefined || !Number.isFinite(g)) overflowSteps.push(e.step);
    else if (g > 0) points.push({ x: e.step, y: Math.log10(g) });
  }
  const { lo, hi } = extent([points]);
  return { points, axis: log10Axis(lo, hi, 5), steps: stepRange(t), markers: markers(t), overflowSteps };
}
