// Runs every expectation of one reader as a mocha test: `ok` ones compared with what the Python
// tools read, `error` ones required to end in the expected CheckpointError, each within 10 s and
// well under 1 GB of extra memory.
import * as assert from 'assert';
import * as fs from 'fs';
import { assertCheckpointError, assertContents, assertTensor, expectationsFor, fixtureBytes } from './expected';
import type { CheckpointContents, CheckpointTensor } from '../../../../../src/engine/model/checkpoint/types';

/** Readers of whole files and of single arrays, by the expectation's `reader` name. */
export interface ReaderTable {
  contents?: Record<string, (bytes: Uint8Array, fileName: string, key: string) => CheckpointContents>;
  arrays?: Record<string, (bytes: Uint8Array, name: string | undefined, fileName: string) => CheckpointTensor>;
}

/** Runs `fn`, requiring it to finish within 10 s and to grow the resident set by less than 1 GB. */
export function bounded<T>(fn: () => T, label: string): T {
  const start = Date.now();
  const rss = process.memoryUsage().rss;
  try {
    return fn();
  } finally {
    const seconds = (Date.now() - start) / 1000;
    const grown = process.memoryUsage().rss - rss;
    assert.ok(seconds < 10, `${label}: took ${seconds} s`);
    assert.ok(grown < 1e9, `${label}: resident set grew by ${grown} bytes`);
  }
}

export function runExpectations(readers: ReaderTable): void {
  const names = [...Object.keys(readers.contents ?? {}), ...Object.keys(readers.arrays ?? {})];
  const cases = names.flatMap((r) => expectationsFor(r));
  assert.ok(cases.length > 0, `no expectations for ${names.join(', ')}`);
  for (const [key, want] of cases) {
    const file = want.file ?? key;
    it(`${key}: ${want.expect === 'ok' ? 'reads what Python reads' : `refused (${want.kind}: ${want.contains})`}`, function () {
      this.timeout(20_000);
      const bytes = fixtureBytes(file);
      const read = (): CheckpointContents | CheckpointTensor => {
        const contents = readers.contents?.[want.reader];
        if (contents) return contents(bytes, file, key);
        return readers.arrays![want.reader](bytes, want.name ?? undefined, file);
      };
      if (want.expect === 'ok') {
        const got = bounded(read, key);
        if (want.tensor) assertTensor(got as CheckpointTensor, want.tensor, key);
        else assertContents(got as CheckpointContents, want, key);
      } else {
        bounded(() => assertCheckpointError(read, want, file, key), key);
      }
      if (want.marker) assert.ok(!fs.existsSync(want.marker), `${want.marker} exists: something ran`);
    });
  }
}
