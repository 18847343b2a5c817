// The Python-side expectations of test/fixtures/checkpoints/expected.json (written by
// tools/make_checkpoints.py from what torch, numpy, onnx and h5py read), and the comparisons the
// reader tests make against them.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import {
  CheckpointError,
  type CheckpointContents,
  type CheckpointTensor,
} from '../../../../../src/engine/model/checkpoint/types';

export const FIXTURES = path.join(__dirname, '..', '..', '..', '..', '..', '..', 'test', 'fixtures', 'checkpoints');

export interface TensorExpectation {
  shape: number[];
  dtype: string;
  sum: number;
  wsum: number;
  values: number[] | null;
  head: number[];
}

export interface Expectation {
  reader: string;
  expect: 'ok' | 'error';
  /** The fixture file when the key is not the file name (`batch.pt#x`). */
  file?: string;
  name?: string | null;
  tensors?: Record<string, TensorExpectation> | null;
  tensor?: TensorExpectation;
  modules?: {
    name: string;
    origin: string;
    attributes?: Record<string, unknown>;
    members?: string[];
    unsupported?: string[];
    /** The module's PyTorch-named tensors (relative names), as the source framework has them. */
    tensors?: Record<string, TensorExpectation>;
  }[];
  meta?: Record<string, number>;
  notes_contain?: string[];
  inert_globals?: string[];
  marker?: string;
  kind?: string;
  contains?: string;
  [other: string]: unknown;
}

let cache: Record<string, Expectation> | undefined;

/** All expectations, by key (a file name, or `file#name`). */
export function expectations(): Record<string, Expectation> {
  if (!cache)
    cache = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'expected.json'), 'utf8')) as Record<string, Expectation>;
  return cache;
}

/** The expectations read by one reader. */
export function expectationsFor(reader: string): [string, Expectation][] {
  return Object.entries(expectations()).filter(([, e]) => e.reader === reader);
}

export function fixtureBytes(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(path.join(FIXTURES, file)));
}

/** Sum and position-weighted sum, the checksums the generator writes. */
function sums(data: Float64Array): { sum: number; wsum: number } {
  let sum = 0;
  let wsum = 0;
  for (let i = 0; i < data.length; i++) {
    sum += data[i];
    wsum += data[i] * ((i % 7) + 1);
  }
  return { sum, wsum };
}

function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(b));
}

/** Compares one tensor with the Python side: shape, dtype, every value (small) or head and sums. */
export function assertTensor(got: CheckpointTensor | undefined, want: TensorExpectation, label: string): void {
  assert.ok(got, `${label}: missing`);
  assert.deepStrictEqual(got.shape, want.shape, `${label}: shape`);
  assert.strictEqual(got.dtype, want.dtype, `${label}: dtype`);
  const data = got.data;
  assert.strictEqual(
    data.length,
    want.shape.reduce((a, b) => a * b, 1),
    `${label}: element count`,
  );
  if (want.values) assert.deepStrictEqual(Array.from(data), want.values, `${label}: values`);
  assert.deepStrictEqual(Array.from(data.subarray(0, want.head.length)), want.head, `${label}: first values`);
  const s = sums(data);
  assert.ok(close(s.sum, want.sum, 1e-9), `${label}: sum ${s.sum} vs ${want.sum}`);
  assert.ok(close(s.wsum, want.wsum, 1e-9), `${label}: weighted sum ${s.wsum} vs ${want.wsum}`);
}

/** Compares a reader's contents with an `ok` expectation. */
export function assertContents(got: CheckpointContents, want: Expectation, label: string): void {
  if (want.tensors) {
    assert.deepStrictEqual(
      [...got.tensors.keys()],
      Object.keys(want.tensors),
      `${label}: tensor names (in file order)`,
    );
    for (const [name, t] of Object.entries(want.tensors)) assertTensor(got.tensors.get(name), t, `${label} ${name}`);
  }
  if (want.modules) {
    assert.deepStrictEqual(
      got.modules.map((m) => m.name),
      want.modules.map((m) => m.name),
      `${label}: candidate modules`,
    );
    want.modules.forEach((w, i) => {
      const m = got.modules[i];
      assert.strictEqual(m.origin, w.origin, `${label}: module ${w.name} origin`);
      if (w.attributes) assert.deepStrictEqual(m.attributes, w.attributes, `${label}: module ${w.name} attributes`);
      if (w.members) assert.deepStrictEqual(m.members, w.members, `${label}: module ${w.name} members`);
      if (w.tensors) {
        assert.deepStrictEqual(
          [...m.tensors.keys()],
          Object.keys(w.tensors),
          `${label}: module ${w.name} tensor names`,
        );
        for (const [name, t] of Object.entries(w.tensors))
          assertTensor(m.tensors.get(name), t, `${label} module ${w.name} ${name}`);
      }
      if (w.unsupported) {
        assert.strictEqual(m.unsupported.length, w.unsupported.length, `${label}: ${m.unsupported.join('; ')}`);
        w.unsupported.forEach((u, k) =>
          assert.ok(m.unsupported[k].includes(u), `${label}: "${m.unsupported[k]}" should name ${u}`),
        );
      }
    });
  }
  if (want.meta) assert.deepStrictEqual(got.meta, want.meta, `${label}: meta`);
  for (const n of want.notes_contain ?? []) {
    assert.ok(
      got.notes.some((x) => x.includes(n)),
      `${label}: no note mentions ${n}: ${got.notes.join(' | ')}`,
    );
  }
  for (const g of want.inert_globals ?? []) {
    assert.ok(
      got.notes.some((x) => x.includes(`global ${g} kept as an inert record`)),
      `${label}: ${g} not reported as inert`,
    );
  }
}

/** Runs `read` and checks it throws the expected CheckpointError (kind, message, file name first). */
export function assertCheckpointError(
  read: () => unknown,
  want: Expectation,
  file: string,
  label: string,
): CheckpointError {
  let caught: unknown;
  try {
    read();
  } catch (err) {
    caught = err;
  }
  assert.ok(
    caught instanceof CheckpointError,
    `${label}: expected a CheckpointError, got ${caught instanceof Error ? caught.stack : String(caught)}`,
  );
  assert.strictEqual(caught.kind, want.kind, `${label}: kind (${caught.message})`);
  assert.ok(
    caught.message.startsWith(`${file}: `) || caught.message.startsWith(`${file}`),
    `${label}: message names the file: ${caught.message}`,
  );
  assert.ok(
    caught.message.includes(want.contains ?? ''),
    `${label}: "${caught.message}" should contain ${want.contains}`,
  );
  return caught;
}
