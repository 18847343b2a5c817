// Unit tests (plain Node) of settingsLogic.ts: raw configuration values normalized.
import * as assert from 'assert';
import { normalizeSettings } from '../../../src/extension/settingsLogic';

describe('extension settings and debounce', () => {
  it('normalizes settings, leaving thresholds to the engine by default', () => {
    assert.deepStrictEqual(normalizeSettings({}), {
      analyzeOnSave: true,
      maxLag: null,
      thresholds: {},
      modelFiles: '**/*.rnn.json',
      timeoutMs: 120000,
      lagBudgetSeconds: 2,
    });
    const custom = normalizeSettings({
      analyzeOnSave: false,
      maxLag: 10.7,
      vanishingLog10PerStep: -0.05,
      timeoutSeconds: 0,
      modelFiles: 'models/*.json',
      lagBudgetSeconds: 0.5,
    });
    assert.deepStrictEqual(custom, {
      analyzeOnSave: false,
      maxLag: 10,
      thresholds: { vanishingLog10PerStep: -0.05 },
      modelFiles: 'models/*.json',
      timeoutMs: 0,
      lagBudgetSeconds: 0.5,
    });
    assert.strictEqual(normalizeSettings({ maxLag: -1, timeoutSeconds: 'x' }).maxLag, null);
    assert.strictEqual(normalizeSettings({ lagBudgetSeconds: -1 }).lagBudgetSeconds, 2);
    assert.strictEqual(normalizeSettings({ lagBudgetSeconds: 0 }).lagBudgetSeconds, 0);
  });
});
