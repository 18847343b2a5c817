// The worker computes lag tables with the WebAssembly GEMM kernel; the plain TypeScript product is the
// reference path. Both must give the same report (to rounding), for every cell and for stacks.
import * as assert from 'assert';
import { analyzeModel } from '../../../src/engine/analyze';
import { KernelMatMul } from '../../../src/engine/matmul';
import { createGemmKernel, RefGemmKernel, type GemmKernel } from '../../../src/engine/kernels';
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
          // f64: rounding only; f32 products (float32 sums within blocks of 256): about 1e-5 relative.
          const tol = precision === 'f64' ? 1e-10 : 2e-4;
          reference.layers.forEach((layer, k) => {
            assert.strictEqual(fast.layers[k].lags.length, layer.lags.length);
            layer.lags.forEach((entry, lag) => {
              const other = fast.layers[k].lags[lag];
              assert.strictEqual(other.count, entry.count);
              for (const key of ['log10_mean', 'log10_min', 'log10_max'] as const) {
                const a = entry[key] ?? null;
                const b = other[key] ?? null;
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

describe('KernelMatMul', () => {
  /** A float64 reference kernel that records its calls and says it is `precision`. */
  function spyKernel(precision: 'f64' | 'f32'): { kernel: GemmKernel; calls: string[] } {
    const ref = new RefGemmKernel();
    const calls: string[] = [];
    const kernel: GemmKernel = {
      name: `spy-${precision}`,
      precision,
      multiply: (m, n, k, A, B, C, acc) => ref.multiply(m, n, k, A, B, C, acc),
      setB: (k, n, B, off) => ref.setB(k, n, B, off),
      addB: (k, n, B, off) => {
        calls.push(`addB ${k}x${n}`);
        return ref.addB(k, n, B, off);
      },
      useB: (slot) => {
        calls.push(`useB ${slot}`);
        ref.useB(slot);
      },
      clearB: () => ref.clearB(),
      multiplyResident: (m, A, C, acc, aOff, cOff) => {
        calls.push(`multiply ${m}`);
        ref.multiplyResident(m, A, C, acc, aOff, cOff);
      },
      dispose: () => ref.dispose(),
    };
    return { kernel, calls };
  }

  it('f32 sends every product to the kernel, however small (one precision per run)', () => {
    const { kernel, calls } = spyKernel('f32');
    const mm = new KernelMatMul(kernel);
    const W = new Float64Array([1, 2, 3, 4]);
    const C = new Float64Array(2);
    mm.multiply(1, 2, 2, new Float64Array([1, 1]), 0, W, C, 0, false);
    assert.deepStrictEqual([...C], [4, 6]);
    assert.deepStrictEqual(calls, ['addB 2x2', 'multiply 1']);
  });

  it('f64 keeps small products in plain code, large ones in the kernel', () => {
    const { kernel, calls } = spyKernel('f64');
    const mm = new KernelMatMul(kernel);
    const small = new Float64Array(4);
    mm.multiply(1, 2, 2, new Float64Array(2), 0, small, new Float64Array(2), 0, false);
    assert.deepStrictEqual(calls, []);
    const big = new Float64Array(64 * 64);
    mm.multiply(8, 64, 64, new Float64Array(8 * 64), 0, big, new Float64Array(8 * 64), 0, false);
    assert.deepStrictEqual(calls, ['addB 64x64', 'multiply 8']);
  });

  it('keeps every weight matrix resident: alternating matrices are packed once each, until reset', () => {
    const { kernel, calls } = spyKernel('f32');
    const mm = new KernelMatMul(kernel);
    const Whh = new Float64Array(9).fill(1);
    const Wih = new Float64Array(6).fill(2);
    const C = new Float64Array(3);
    for (let step = 0; step < 3; step++) {
      mm.multiply(1, 3, 3, new Float64Array(3), 0, Whh, C, 0, false);
      mm.multiply(1, 2, 3, new Float64Array(3), 0, Wih, C, 0, false);
    }
    assert.deepStrictEqual(
      calls.filter((c) => c.startsWith('addB')),
      ['addB 3x3', 'addB 3x2'],
    );
    mm.reset();
    mm.multiply(1, 3, 3, new Float64Array(3), 0, Whh, C, 0, false);
    assert.deepStrictEqual(
      calls.filter((c) => c.startsWith('addB')),
      ['addB 3x3', 'addB 3x2', 'addB 3x3'],
    );
  });
});
