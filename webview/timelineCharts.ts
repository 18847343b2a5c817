// Chart.js configurations of the timeline panel: four figures against the training step, with the run's
// findings drawn as labelled vertical lines at their steps. Points are clickable (the view opens that step).
import type { ChartConfiguration, ChartDataset, TooltipItem } from 'chart.js';
import type { XY } from '../src/shared/decimate';
import { formatFromLog10, formatNumber } from '../src/engine/report/format';
import type { ClipTimelineModel } from '../src/shared/reportView/clipTimelineChart';
import type { GradNormTimelineModel } from '../src/shared/reportView/gradNormTimelineChart';
import type { RateTimelineModel } from '../src/shared/reportView/rateTimelineChart';
import type { SigmaTimelineModel } from '../src/shared/reportView/sigmaTimelineChart';
import type { TimelineMarker } from '../src/shared/reportView/timelineCommon';
import { linearScale, lineDataset, log10Scale } from './charts';
import type { RefLine } from './refLinesPlugin';
import type { Theme } from './theme';

/** The findings as vertical lines: warnings in the "current threshold" red, information in yellow. */
export function markerLines(markers: TimelineMarker[], theme: Theme): RefLine[] {
  return markers.map((m, i) => ({
    id: `finding-${i}-${m.code}-${m.step}`,
    axis: 'x',
    value: m.step,
    colour: m.severity === 'warning' || m.severity === 'error' ? theme.threshold('current') : theme.threshold('other'),
    width: theme.lineWidth,
    dash: [4, 3],
    label: m.label,
    position: i % 2 === 0 ? 'start' : 'end',
    labelColour: theme.foreground,
    labelBackground: theme.background,
  }));
}

function stepAxis(steps: { min: number; max: number }, theme: Theme): ReturnType<typeof linearScale> {
  return linearScale(theme, 'training step', { min: steps.min, max: steps.max });
}

function pointDataset(label: string, data: XY[], colour: string, theme: Theme): ChartDataset<'line'> {
  return lineDataset(label, data, colour, theme, { pointRadius: 3.5, pointHoverRadius: 6, pointHitRadius: 8 });
}

function options(
  x: ReturnType<typeof linearScale>,
  y: ReturnType<typeof linearScale>,
  lines: RefLine[],
  label: (item: TooltipItem<'line'>) => string,
  legend: boolean,
  theme: Theme,
): ChartConfiguration<'line'>['options'] {
  return {
    animation: false,
    parsing: false,
    normalized: true,
    maintainAspectRatio: false,
    interaction: { mode: 'nearest', intersect: false, axis: 'x' },
    scales: { x, y },
    plugins: {
      legend: { display: legend, position: 'bottom', labels: { color: theme.foreground, boxWidth: 14 } },
      tooltip: {
        callbacks: {
          title: (items) => (items.length ? `step ${items[0].parsed.x ?? ''}` : ''),
          label,
        },
      },
      refLines: { lines },
    },
  };
}

/** Gradient norm (log10 axis) against the step. */
export function gradNormTimelineConfig(m: GradNormTimelineModel, theme: Theme): ChartConfiguration<'line'> {
  return {
    type: 'line',
    data: { datasets: [pointDataset('gradient norm', m.points, theme.series[0], theme)] },
    options: options(
      stepAxis(m.steps, theme),
      log10Scale(m.axis, theme, '‖∇θ L‖ (log scale)'),
      markerLines(m.markers, theme),
      (item) => `gradient norm ${formatFromLog10(item.parsed.y)}`,
      false,
      theme,
    ),
  };
}

/** Each layer's log10 rate per step, with the regime thresholds. */
export function rateTimelineConfig(m: RateTimelineModel, theme: Theme): ChartConfiguration<'line'> {
  const thresholds: RefLine[] = [
    { value: m.exploding, label: `exploding ≥ +${m.exploding}` },
    { value: m.vanishing, label: `vanishing ≤ ${m.vanishing}` },
  ].map((t, i) => ({
    id: `threshold-${i}`,
    axis: 'y',
    value: t.value,
    colour: theme.muted,
    width: 1,
    dash: [2, 3],
    label: t.label,
    position: 'end',
    labelColour: theme.muted,
    labelBackground: theme.background,
  }));
  return {
    type: 'line',
    data: {
      datasets: m.series.map((s, i) => pointDataset(s.label, s.points, theme.series[i % theme.series.length], theme)),
    },
    options: options(
      stepAxis(m.steps, theme),
      linearScale(theme, 'log10 rate per step', {
        suggestedMin: m.vanishing * 1.3,
        suggestedMax: m.exploding * 1.3,
        grace: '5%',
      }),
      [...thresholds, ...markerLines(m.markers, theme)],
      (item) =>
        `${item.dataset.label ?? ''}: ${(item.parsed.y ?? 0) >= 0 ? '+' : ''}${formatNumber(item.parsed.y)} per step`,
      true,
      theme,
    ),
  };
}

/** Each layer's σ_max(W_hh) against the step. */
export function sigmaTimelineConfig(m: SigmaTimelineModel, theme: Theme): ChartConfiguration<'line'> {
  return {
    type: 'line',
    data: {
      datasets: m.series.map((s, i) => pointDataset(s.label, s.points, theme.series[i % theme.series.length], theme)),
    },
    options: options(
      stepAxis(m.steps, theme),
      linearScale(theme, 'σ_max(W_hh)'),
      markerLines(m.markers, theme),
      (item) => `${item.dataset.label ?? ''}: σ_max ${formatNumber(item.parsed.y)}`,
      true,
      theme,
    ),
  };
}

/** The recommended clip_norm (log10 axis) against the step. */
export function clipTimelineConfig(m: ClipTimelineModel, theme: Theme): ChartConfiguration<'line'> {
  return {
    type: 'line',
    data: { datasets: [pointDataset('recommended clip_norm', m.points, theme.threshold('mean'), theme)] },
    options: options(
      stepAxis(m.steps, theme),
      log10Scale(m.axis, theme, 'recommended clip_norm (log scale)'),
      markerLines(m.markers, theme),
      (item) => `clip_norm ${formatFromLog10(item.parsed.y)}`,
      false,
      theme,
    ),
  };
}
