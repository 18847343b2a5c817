// The timeline table's layer columns name a reverse direction as the rest of the CLI does: "layer 0 (reverse)".
import * as assert from 'assert';
import { formatTimeline, formatWatchRow } from '../../../src/cli/timelineTable';
import type { TimelineEntry, TimelineReport } from '../../../src/engine/timeline/types';

const entry: TimelineEntry = {
  file: 'ckpt-100.pt',
  step: 100,
  loss: 1,
  grad_norm: 2,
  layers: [
    { layer: 0, direction: 'forward', regime: 'stable', log10_rate_per_step: -0.01, sigma_max: 1 },
    { layer: 0, direction: 'reverse', regime: 'vanishing', log10_rate_per_step: -0.2, sigma_max: 0.5 },
  ],
  recommended: { clip_norm: 2, clip_value: 0.5 },
  codes: [],
};

describe('CLI timeline table', () => {
  it('labels the layer columns and watch rows per direction', () => {
    const report = { timeline_version: 1, entries: [entry], findings: [] } as unknown as TimelineReport;
    const text = formatTimeline(report, 'run');
    assert.match(text, /layer 0 \(reverse\)/);
    assert.doesNotMatch(text, /layer 0 reverse/);
    assert.match(formatWatchRow(entry, []), /layer 0 \(reverse\) vanishing/);
  });
});
