// Checkpoint-backed model files (test/fixtures/checkpoint-models, written by tools/make_checkpoint_models.py):
// every weights format and every kind of data file gives the report of the same model given as inline JSON,
// and both equal the PyTorch autograd reference at 1e-9; checkpoints analyzed directly (no model file) get
// synthetic data and a synthetic-data finding, in-process and through the built CLI.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyzeModel } from '../../src/engine/analyze';
import { checkpointModelText } from '../../src/engine/model/checkpointSource';
import { loadModelFile } from '../../src/io/loadModel';
import { REPO_ROOT, ensureBuilt, runCli } from './helpers/cli';
import { compareWithReference, nonFinitePaths } from './helpers/report';

type Obj = Record<string, unknown>;

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'checkpoint-models');

interface CaseEntry {
  covers: string;
  ref_from: 'checkpoint' | 'inline';
  source: { format: string; path: string; module: string };
  files: string[];
}

interface BareEntry {
  covers: string;
  inline: string;
  source: { format: string; path: string; module: string };
}

const INDEX = JSON.parse(fs.readFileSync(path.join(DIR, 'index.json'), 'utf8')) as {
  cases: Record<string, CaseEntry>;
  bare: Record<string, BareEntry>;
};

function analyzeFile(file: string, text = fs.readFileSync(path.join(DIR, file), 'utf8')): Obj {
  const parsed = loadModelFile(text, path.join(DIR, file), DIR);
  assert.ok(parsed.model, `${file} does not parse: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return analyzeModel(parsed.model, { file, gradientValues: true }) as unknown as Obj;
}

function assertEqualReports(expected: Obj, got: Obj, label: string): void {
  const bad = compareWithReference(expected, got);
  assert.deepStrictEqual(bad.slice(0, 8), [], `${label}: ${bad.length} mismatch(es)`);
}

describe('checkpoint-backed model files (test/fixtures/checkpoint-models)', () => {
  it('finds the fixtures: every weights format, and every case has its files', () => {
    const formats = new Set(Object.values(INDEX.cases).map((c) => c.source.format));
    assert.deepStrictEqual([...formats].sort(), ['keras', 'npz', 'onnx', 'pytorch', 'safetensors']);
    const extensions = new Set(Object.values(INDEX.cases).map((c) => path.extname(c.source.path)));
    for (const ext of ['.pt', '.pth', '.ckpt', '.npz', '.onnx', '.keras', '.h5', '.safetensors'])
      assert.ok(extensions.has(ext), `no case with ${ext} weights`);
    for (const [name, c] of Object.entries(INDEX.cases)) {
      for (const f of [...c.files, `${name}.rnn.json`, `${name}.ref.json`])
        assert.ok(fs.existsSync(path.join(DIR, f)), `${f} missing`);
    }
  });

  for (const [name, c] of Object.entries(INDEX.cases)) {
    describe(name, () => {
      let fromFile: Obj;
      let inline: Obj;
      before(function () {
        this.timeout(20_000);
        fromFile = analyzeFile(`${name}.rnn.json`);
        inline = analyzeFile(`${name}.inline.rnn.json`);
      });

      it(`matches the PyTorch reference (of the ${c.ref_from === 'checkpoint' ? 'checkpoint-backed' : 'inline'} file)`, () => {
        const ref = JSON.parse(fs.readFileSync(path.join(DIR, `${name}.ref.json`), 'utf8')) as Obj;
        assertEqualReports(ref, fromFile, `${name} (checkpoint)`);
        assertEqualReports(ref, inline, `${name} (inline)`);
        assert.deepStrictEqual(nonFinitePaths(fromFile), []);
      });

      it('gives the report of the same model as inline JSON (1e-9)', () => {
        assertEqualReports(inline, fromFile, name);
        assert.deepStrictEqual(
          (fromFile.findings as Obj[]).map((f) => f.code),
          (inline.findings as Obj[]).map((f) => f.code),
        );
      });

      it('names its source: format, path and module', () => {
        const text = fs.readFileSync(path.join(DIR, `${name}.rnn.json`), 'utf8');
        const parsed = loadModelFile(text, path.join(DIR, `${name}.rnn.json`), DIR);
        assert.deepStrictEqual(parsed.model?.source, c.source);
      });
    });
  }

  describe('checkpoints analyzed directly (synthetic data)', () => {
    for (const [file, c] of Object.entries(INDEX.bare)) {
      it(`${file}: the report of its inline weights with data.generate {8, 64}, plus a synthetic-data finding`, function () {
        this.timeout(20_000);
        const got = analyzeFile(file, checkpointModelText(file));
        const inline = analyzeFile(c.inline);
        assertEqualReports(inline, got, file);
        assert.strictEqual(got.sequences, 8);
        assert.strictEqual(got.steps, 8 * 64);
        const synthetic = (got.findings as Obj[]).filter((f) => f.code === 'synthetic-data');
        assert.strictEqual(synthetic.length, 1);
        assert.strictEqual(synthetic[0].severity, 'info');
        assert.match(String(synthetic[0].message), /8 synthetic sequences of 64 steps/);
        assert.ok(!(inline.findings as Obj[]).some((f) => f.code === 'synthetic-data'));
      });
    }

    it('through the built CLI: `rnn-gradients analyze FILE.pt --json` works directly', function () {
      this.timeout(120_000);
      ensureBuilt();
      const r = runCli(['analyze', 'bare-gru.pt', '--json', '--gradients'], DIR);
      assert.strictEqual(r.status, 0, r.stderr);
      const got = JSON.parse(r.stdout) as Obj;
      assertEqualReports(analyzeFile('bare-gru.inline.rnn.json'), got, 'bare-gru.pt (CLI)');
      assert.strictEqual(got.file, 'bare-gru.pt');
      assert.ok((got.findings as Obj[]).some((f) => f.code === 'synthetic-data'));
      const summary = runCli(['analyze', 'bare-lstm.onnx'], DIR);
      assert.strictEqual(summary.status, 0, summary.stderr);
      assert.match(summary.stdout, /synthetic/);
    });
  });
});
