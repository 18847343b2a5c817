// The .vsix holds every bundle the extension loads at run time: the .vscodeignore allow-list is checked
// with vsce's own file listing (a missing worker bundle would silently disable that thread kind).
import * as assert from 'assert';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { strFromU8, unzipSync } from 'fflate';

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

  it('names no made-up repository: no placeholder host in package.json or its package script, and vsce packages', () => {
    const pkgText = fs.readFileSync(path.join(root, 'package.json'), 'utf8');
    assert.doesNotMatch(pkgText, /example\.invalid|example\.com/);
    const pkg = JSON.parse(pkgText) as { repository?: unknown; scripts: Record<string, string> };
    assert.strictEqual(pkg.repository, undefined);
    // vsce package with the script's own flags (the script builds first; dist/ is built for the unit tests).
    const flags = pkg.scripts.package
      .split('&&')
      .map((part) => part.trim())
      .find((part) => part.startsWith('vsce package'));
    assert.ok(flags, pkg.scripts.package);
    const args = flags
      .split(/\s+/)
      .slice(2)
      .filter((a, i, all) => a !== '-o' && all[i - 1] !== '-o');
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-vsix-')), 'x.vsix');
    try {
      const vsce = path.join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
      execFileSync(process.execPath, [vsce, 'package', ...args, '-o', out], {
        cwd: root,
        encoding: 'utf8',
        stdio: 'pipe',
      });
      const files = unzipSync(fs.readFileSync(out));
      // vsce stores it as extension/readme.md (the extension looks for both names, extension.ts findingDocs),
      // unchanged: the diagnostic links' line numbers hold in the shipped copy.
      const shipped = files['extension/readme.md'] ?? files['extension/README.md'];
      assert.ok(shipped, `no README in the .vsix: ${Object.keys(files).join(', ')}`);
      assert.strictEqual(strFromU8(shipped), fs.readFileSync(path.join(root, 'README.md'), 'utf8'));
      for (const [name, bytes] of Object.entries(files))
        if (/\.(md|json|xml)$/.test(name)) assert.doesNotMatch(strFromU8(bytes), /example\.invalid/, name);
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
  });
});
