// Unit tests of export.ts: the CSV lag table, file name stems and the model title.
import * as assert from 'assert';
import { csvField, exportStem, lagTableCsv, modelTitle } from '../../../../src/shared/reportView/export';
import { engineReport, lag, layerOf, reportOf } from './fixtures';

describe('webview: formatting and export', () => {
  it('writes the lag table as CSV with full-precision numbers and empty fields for null', () => {
    const r = reportOf([layerOf([lag(0, 0), lag(1, null, { log10_contribution_mean: null })])]);
    const csv = lagTableCsv(r);
    const lines = csv.split('\r\n');
    assert.strictEqual(
      lines[0],
      'layer,direction,lag,count,mean,min,max,contribution_mean,log10_mean,log10_min,log10_max,log10_contribution_mean',
    );
    assert.strictEqual(lines[1], '0,forward,0,1,1,1,1,1,0,-1,1,');
    assert.strictEqual(lines[2], '0,forward,1,1,0,0,0,0,,,,');
    assert.strictEqual(lines[3], '');
    const report = engineReport('small.rnn.json');
    const small = lagTableCsv(report).split('\r\n');
    assert.strictEqual(small.length, 1 + report.layers[0].lags.length + 1);
    assert.strictEqual(Number(small[1].split(',')[4]), report.layers[0].lags[0].mean, 'full precision');
  });

  it('quotes CSV text that could break a row or be read as a formula', () => {
    assert.strictEqual(csvField('a,b'), '"a,b"');
    assert.strictEqual(csvField('say "hi"'), '"say ""hi"""');
    assert.strictEqual(csvField('=1+1'), '"=1+1"');
    assert.strictEqual(csvField(Infinity), '');
    assert.strictEqual(csvField(-0.5), '-0.5');
  });

  it('names exports after the model file and shows the model name as given (user data, rendered as text)', () => {
    const small = engineReport('small.rnn.json');
    assert.strictEqual(exportStem(small), 'small');
    assert.strictEqual(
      exportStem({ ...small, file: 'examples/<b>tanh</b>.rnn.json' }),
      'b_',
      'the / of </b> is a path separator',
    );
    assert.strictEqual(exportStem({ ...small, file: 'models/char.rnn.json' }), 'char');
    assert.strictEqual(modelTitle(small), 'tanh demo <img src=x onerror=alert(1)>');
    assert.strictEqual(modelTitle({ ...small, model: { ...small.model, name: undefined } }), small.file);
  });
});
