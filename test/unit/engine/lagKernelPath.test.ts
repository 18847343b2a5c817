// The worker computes lag tables with the WebAssembly GEMM kernel; the plain TypeScript product is the
// reference path. Both must give the same report (to rounding), for every cell and for stacks.
import * as assert from 'assert';
import { analyzeModel } from '../../../src/engine/analyze';
import { KernelMatMul } from '../../../src/engine/matmul';
import { createGemmKernel } from '../../../src/engine/kernels';
import { parseModel } from '../../../src/engine/model/parse';
import type { Report } from '../../../src/engine/report/types';
import { generatedModelText as model } from '../helpers/models';

function run(text: string, matmul?: KernelMatMul): Report {
  const parsed = parseModel(text);
  assert.ok(parsed.model, JSON.stringify(parsed.problems));
  return analyzeModel(parsed.model, { file: 'x', matmul });
}

describe('lag recursion on the GEMM kernel', () => {
  for (const precision of ['f64', 'f32'] as const) {
    for (const [cell, layers] of [
      ['rnn', 1],
      ['lstm', 2],
      ['gru', 2],
    ] as const) {
      it(`${cell}, ${layers} layer(s), ${precision} kernel agrees with the plain path`, () => {
        const text = model(cell, 48, layers, 120);
        const reference = run(text);
        const kernel = new KernelMatMul(createGemmKernel({ precision, kind: 'wasm' }));
        try {
          const fast = run(text, kernel);
          // f64: rounding only; f32 products with float64 accumulation: about 1e-5 relative.
          const tol = precision === 'f64' ? 1e-10 : 2e-4;
          reference.layers.forEach((layer, k) => {
            assert.strictEqual(fast.layers[k].lags.length, layer.lags.length);
            layer.lags.forEach((entry, lag) => {
              const other = fast.layers[k].lags[lag];
              assert.strictEqual(other.count, entry.count);
              for (const key of ['log10_mean', 'log10_min', 'log10_max'] as const) {
                const a = entry[key];
                const b = other[key];
                assert.ok(a !== null && b !== null, `${key} at lag ${lag}`);
                assert.ok(Math.abs(10 ** (b - a) - 1) <= tol, `layer ${k} lag ${lag} ${key}: ${a} vs ${b}`);
              }
            });
          });
          assert.strictEqual(fast.loss, reference.loss, 'loss does not depend on the kernel');
        } finally {
          kernel.dispose();
        }
      });
    }
  }
});
