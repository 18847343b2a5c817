// The .vsix holds every bundle the extension loads at run time: the .vscodeignore allow-list is checked
// with vsce's own file listing (a missing worker bundle would silently disable that thread kind).
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as path from 'path';

const root = path.resolve(__dirname, '..', '..', '..');

/** Files the extension host, the analysis worker and the report webview load by name from dist/. */
const RUNTIME_BUNDLES = [
  'dist/extension.js',
  'dist/worker.js',
  'dist/lag-worker.js',
  'dist/gemm-helper.js',
  'dist/webview.js',
  'dist/webview.css',
];

describe('packaging (.vscodeignore allow-list)', function () {
  this.timeout(60000);

  it('vsce would package every runtime bundle, and not the CLI or the bench', () => {
    const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
    const listed = execFileSync(process.execPath, [vsce, 'ls', '--no-dependencies'], { cwd: root, encoding: 'utf8' })
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.length > 0);
    for (const bundle of RUNTIME_BUNDLES) assert.ok(listed.includes(bundle), `${bundle} is missing from the .vsix`);
    assert.ok(!listed.includes('dist/bench.js'), 'the bench does not belong in the .vsix');
  });
});
