// The timeline's rate chart: each layer's fitted log10 change of the gradient norm per step back in time,
// against the training step, with the regime rule's thresholds.
import { DEFAULT_THRESHOLDS } from '../../engine/regime';
import type { TimelineReport } from '../../engine/timeline/types';
import type { XY } from '../decimate';
import { layerKeys, layerSeries, markers, stepRange, type TimelineMarker } from './timelineCommon';

export interface RateTimelineModel {
  series: { label: string; points: XY[] }[];
  steps: { min: number; max: number };
  /** The engine's default thresholds (the editor's settings may move them). */
  vanishing: number;
  exploding: number;
  markers: TimelineMarker[];
}

export function rateTimelineModel(t: TimelineReport): RateTimelineModel {
  return {
    series: layerKeys(t).map((k) => ({ label: k.label, points: layerSeries(t, k, (l) => l.log10_rate_per_step) })),
    steps: stepRange(t),
    vanishing: DEFAULT_THRESHOLDS.vanishingLog10PerStep,
    exploding: DEFAULT_THRESHOLDS.explodingLog10PerStep,
    markers: markers(t),
  };
}
