// Unit tests of the one number-formatting module: each face's style, and the mantissa carry of figures
// written from their log10 (a rounded mantissa of 10 moves into the exponent).
import * as assert from 'assert';
import {
  formatDataShape,
  formatFromLog10,
  formatNumber,
  formatPowerOfTen,
  formatShare,
  formatHoverNumber,
  formatHoverPow10,
  formatNorm,
  formatShort,
  formatShortFromLog10,
  roundThreshold,
  splitLog10,
} from '../../../../src/engine/report/format';

describe('number formatting: engine texts and the CLI', () => {
  it('writes 3 significant digits, exponent form outside 1e-3..1e5', () => {
    assert.deepStrictEqual([0, 11.204024, 0.5, -2.5, 123456, 0.0001234, 99999].map(formatShort), [
      '0',
      '11.2',
      '0.5',
      '-2.5',
      '1.23e5',
      '1.23e-4',
      '100000',
    ]);
  });

  it('carries a mantissa that rounds to 10 into the exponent: 9.99e5 is 1.0e6, not 10.0e5', () => {
    assert.strictEqual(formatShortFromLog10(Math.log10(9.99e5)), '1.0e6');
    assert.strictEqual(formatShortFromLog10(Math.log10(9.96e-8)), '1.0e-7');
    assert.strictEqual(formatShortFromLog10(Math.log10(3.2e5)), '3.2e5');
    assert.strictEqual(formatShortFromLog10(-400.5), '3.2e-401');
    assert.strictEqual(formatShortFromLog10(Math.log10(0.05)), '0.05');
  });

  it('writes terminal norms from their log10 outside the double range, carried', () => {
    assert.strictEqual(formatNorm(1.5e-5, Math.log10(1.5e-5)), '1.50e-5');
    assert.strictEqual(formatNorm(0, -399.5), '3.16e-400');
    assert.strictEqual(formatNorm(null, 400.25), '1.78e+400');
    assert.strictEqual(formatNorm(0, -399.000001), '1.00e-399');
    assert.strictEqual(formatNorm(null, null), '—');
  });
});

describe('number formatting: the hover', () => {
  it('writes 4 significant digits, exponent form outside 1e-3..1e6, n/a when missing', () => {
    assert.deepStrictEqual([null, 0, 1.23456, 123456, 1234567, 0.0001234, Infinity].map(formatHoverNumber), [
      'n/a',
      '0',
      '1.235',
      '123500',
      '1.235e+6',
      '1.234e-4',
      'n/a',
    ]);
  });

  it('writes factors beyond the double range from their log10, carried', () => {
    assert.strictEqual(formatHoverPow10(Math.log10(0.5)), '0.5');
    assert.strictEqual(formatHoverPow10(-400.5), '3.162e-401');
    assert.strictEqual(formatHoverPow10(400 - 1e-7), '1e400');
  });
});

describe('the data shape: sequences × steps, not the total alone', () => {
  it('says "4 sequences × 16 steps" for equal lengths, the range for unequal ones, and one sequence plainly', () => {
    assert.strictEqual(
      formatDataShape({ sequences: 4, steps: 64, lengths: { min: 16, max: 16 } }),
      '4 sequences × 16 steps',
    );
    assert.strictEqual(
      formatDataShape({ sequences: 3, steps: 38, lengths: { min: 10, max: 16 } }),
      '3 sequences of 10–16 steps (38 in all)',
    );
    assert.strictEqual(
      formatDataShape({ sequences: 1, steps: 1, lengths: { min: 1, max: 1 } }),
      '1 sequence of 1 step',
    );
  });

  it('falls back to the total for a report without lengths', () => {
    assert.strictEqual(formatDataShape({ sequences: 4, steps: 64 }), '4 sequences, 64 steps in all');
  });
});

describe('number formatting: splitLog10', () => {
  it('gives a mantissa in [1, 10) at the requested decimals', () => {
    assert.deepStrictEqual(splitLog10(-399.5, 2), { mantissa: '3.16', exponent: -400 });
    assert.deepStrictEqual(splitLog10(5.9999, 1), { mantissa: '1.0', exponent: 6 });
    assert.deepStrictEqual(splitLog10(0, 3), { mantissa: '1.000', exponent: 0 });
  });
});

describe('extension edit logic', () => {
  it('rounds suggestions to three significant digits', () => {
    assert.strictEqual(roundThreshold(4.153217), 4.15);
    assert.strictEqual(roundThreshold(0.00012345), 0.000123);
    assert.strictEqual(roundThreshold(12345), 12300);
  });
});

describe('webview: formatting and export', () => {
  it('formats powers of ten, plain figures, figures known by their log10, and shares', () => {
    assert.deepStrictEqual([0, 1, 2, -3, -400].map(formatPowerOfTen), ['1', '10', '10²', '10⁻³', '10⁻⁴⁰⁰']);
    assert.deepStrictEqual([null, 0, 11.204024, 123456, 0.0001234].map(formatNumber), [
      '—',
      '0',
      '11.2',
      '1.23e5',
      '1.23e-4',
    ]);
    assert.strictEqual(formatFromLog10(-400), '1.00e-400');
    assert.strictEqual(formatFromLog10(-399.5), '3.16e-400');
    assert.strictEqual(formatFromLog10(null), '0');
    assert.strictEqual(formatFromLog10(Math.log10(0.5)), '0.5');
    assert.deepStrictEqual([null, 0, 0.0004, 0.05, 0.5, 0.9999, 1].map(formatShare), [
      '—',
      '0%',
      '<0.1%',
      '5%',
      '50%',
      '>99.9%',
      '100%',
    ]);
    assert.strictEqual(roundThreshold(11.204024418608755), 11.2);
  });
});
