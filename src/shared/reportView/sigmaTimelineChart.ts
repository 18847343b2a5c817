// The timeline's σ_max chart: each layer's largest singular value of W_hh against the step.
import type { TimelineReport } from '../../engine/timeline/types';
import type { XY } from '../decimate';
import { layerKeys, layerSeries, markers, stepRange, type TimelineMarker } from './timelineCommon';

export interface SigmaTimelineModel {
  series: { label: string; points: XY[] }[];
  steps: { min: number; max: number };
  markers: TimelineMarker[];
}

export function sigmaTimelineModel(t: TimelineReport): SigmaTimelineModel {
  return {
    series: layerKeys(t).map((k) => ({ label: k.label, points: layerSeries(t, k, (l) => l.sigma_max) })),
    steps: stepRange(t),
    markers: markers(t),
  };
}
