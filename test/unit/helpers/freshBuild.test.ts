// staleBuildReason (helpers/cli.ts): the unit tests rebuild dist/ when a source is newer than a bundle.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { BUNDLES, staleBuildReason } from './cli';

describe('unit tests rebuild a stale dist/', () => {
  let root: string;
  const at = (file: string, seconds: number): void => {
    const full = path.join(root, file);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (!fs.existsSync(full)) fs.writeFileSync(full, '');
    fs.utimesSync(full, seconds, seconds);
  };
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-stale-'));
    at('src/engine/analyze.ts', 1000);
    at('webview/main.ts', 1000);
    at('esbuild.js', 1000);
    for (const name of BUNDLES) at(`dist/${name}`, 2000);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('is current when every bundle is newer than every source', () => {
    assert.strictEqual(staleBuildReason(root), undefined);
  });
  it('is stale when a source under src/ changed after the build', () => {
    at('src/engine/analyze.ts', 3000);
    assert.strictEqual(staleBuildReason(root), 'src changed since the last build');
  });
  it('is stale when a webview source changed after one of the bundles was written', () => {
    at('dist/webview.js', 1500);
    at('webview/main.ts', 1800);
    assert.match(staleBuildReason(root) ?? '', /webview changed/);
  });
  it('is stale when a bundle is missing', () => {
    fs.rmSync(path.join(root, 'dist', 'cli.js'));
    assert.strictEqual(staleBuildReason(root), 'dist/cli.js is missing');
  });
});
