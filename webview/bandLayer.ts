// Min–max bands drawn as one filled polygon per layer under the lag chart's lines. Drawing them directly,
// instead of as two Chart.js line datasets, spares the chart thousands of point elements per report.
import type { Chart, Plugin } from 'chart.js';
import type { XY } from '../src/shared/decimate';

/** One band: its upper and lower edges (same x order) and fill colour. */
export interface Band {
  upper: XY[];
  lower: XY[];
  fill: string;
}

/** Owns the bands of one chart; its plugin is attached when the chart is created and reads `bands` at each draw. */
export class BandLayer {
  bands: Band[] = [];

  readonly plugin: Plugin<'line'> = {
    id: 'minMaxBands',
    beforeDatasetsDraw: (chart: Chart<'line'>) => this.draw(chart),
  };

  private draw(chart: Chart<'line'>): void {
    const x = chart.scales.x;
    const y = chart.scales.y;
    if (!x || !y || !this.bands.length) return;
    const { ctx, chartArea: area } = chart;
    ctx.save();
    ctx.beginPath();
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top);
    ctx.clip();
    for (const band of this.bands) {
      if (!band.upper.length || band.upper.length !== band.lower.length) continue;
      ctx.beginPath();
      ctx.moveTo(x.getPixelForValue(band.upper[0].x), y.getPixelForValue(band.upper[0].y));
      for (let i = 1; i < band.upper.length; i++)
        ctx.lineTo(x.getPixelForValue(band.upper[i].x), y.getPixelForValue(band.upper[i].y));
      for (let i = band.lower.length - 1; i >= 0; i--)
        ctx.lineTo(x.getPixelForValue(band.lower[i].x), y.getPixelForValue(band.lower[i].y));
      ctx.closePath();
      ctx.fillStyle = band.fill;
      ctx.fill();
    }
    ctx.restore();
  }
}
