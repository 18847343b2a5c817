// Every golden and generated fixture (NAME.rnn.json + NAME.ref.json, references from PyTorch autograd)
// against the engine: in-process for all of them, and through the built CLI for the four golden ones.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseModel } from '../../src/engine/model/parse';
import { analyzeModel } from '../../src/engine/analyze';
import { REPO_ROOT, ensureBuilt, runCli } from './helpers/cli';
import { analyzeModelFile } from './helpers/models';
import { compareCellStats, compareWithReference, nonFinitePaths, reportContractProblems } from './helpers/report';
import type { Report } from '../../src/engine/report/types';
import { clipThresholds } from '../../src/shared/reportView/clippingChart';

type Obj = Record<string, unknown>;

function fixtures(dir: string): { name: string; model: string; ref: string }[] {
  const abs = path.join(REPO_ROOT, dir);
  return fs
    .readdirSync(abs)
    .filter((f) => f.endsWith('.rnn.json'))
    .sort()
    .map((f) => ({
      name: f.slice(0, -'.rnn.json'.length),
      model: path.join(dir, f),
      ref: path.join(dir, f.replace(/\.rnn\.json$/, '.ref.json')),
    }));
}

const GOLDEN = fixtures('test/fixtures/golden');
const GENERATED = fixtures('test/fixtures/generated');
const GENERATED_V2 = fixtures('test/fixtures/generated-v2');
const GOLDEN_V2_DIR = '/work/shared/golden-v2';

/**
 * Whether a version-2 fixture reads files through the checkpoint readers (a weights file other than
 * safetensors, `module`, string readout/embedding prefixes, data arrays in files): those wait for issue 9.
 */
function needsCheckpointReaders(rel: string): boolean {
  const m = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8')) as Obj;
  const data = (m.data ?? {}) as Obj;
  return (
    (typeof m.weights === 'string' && !m.weights.endsWith('.safetensors')) ||
    'module' in m ||
    typeof m.readout === 'string' ||
    typeof m.embedding === 'string' ||
    Object.values(data).some((v) => typeof v === 'string' && v !== 'batch_first' && v !== 'time_first')
  );
}

/**
 * The version-2 fields of a reference that compareWithReference does not look at: the model summary, the
 * counts, each layer's direction, the version, and the share of batches the file's clip_norm clips on the panel.
 */
function version2Problems(ref: Obj, got: Obj, clipNorm: number | null = null): string[] {
  const bad: string[] = [];
  const rm = ref.model as Obj;
  const gm = got.model as Obj;
  for (const [k, v] of Object.entries(rm)) {
    if (JSON.stringify(gm[k]) !== JSON.stringify(v))
      bad.push(`model.${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(gm[k])}`);
  }
  for (const k of ['sequences', 'steps'])
    if (got[k] !== ref[k]) bad.push(`${k}: expected ${String(ref[k])}, got ${String(got[k])}`);
  // The generator writes report_version 2 for every case; the engine writes 1 for a file without version-2
  // features (report/layers.ts reportVersion, tested in report/layers.test.ts).
  const v2 = gm.bidirectional === true || (gm.proj_size as number) > 0 || got.report_version === 2;
  if (v2 && got.report_version !== 2) bad.push(`report_version: expected 2, got ${String(got.report_version)}`);
  (ref.layers as Obj[]).forEach((rl, i) => {
    const gl = (got.layers as Obj[])[i];
    if (gl?.direction !== rl.direction || gl?.layer !== rl.layer)
      bad.push(`layers[${i}]: expected layer ${String(rl.layer)} ${String(rl.direction)}`);
  });
  // The share of batches the file's own training.clip_norm rescales, as the panel's clipping chart shows it.
  const rc = ref.clipping as Obj;
  if (typeof rc.training_clipped_share_expected === 'number') {
    const current = clipThresholds(got as unknown as Report, clipNorm).find((t) => t.source === 'current');
    if (current?.share !== rc.training_clipped_share_expected)
      bad.push(
        `panel share of training.clip_norm ${String(clipNorm)}: expected ${rc.training_clipped_share_expected}, got ${String(current?.share)}`,
      );
  }
  return bad;
}

/** The model file's training.clip_norm (null when it has none). */
function clipNormOf(rel: string): number | null {
  const training = readJson(rel).training as Obj | undefined;
  return typeof training?.clip_norm === 'number' ? training.clip_norm : null;
}

function readJson(rel: string): Obj {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8')) as Obj;
}

function analyzeInProcess(rel: string): Obj {
  return analyzeModelFile(path.join(REPO_ROOT, rel), { file: rel, gradientValues: true }) as unknown as Obj;
}

function assertMatches(ref: Obj, got: Obj, label: string): void {
  const bad = compareWithReference(ref, got);
  assert.deepStrictEqual(bad.slice(0, 8), [], `${label}: ${bad.length} mismatch(es) with the reference`);
}

describe('golden references', () => {
  it('finds the fixtures (4 golden, every generated model has a reference)', () => {
    assert.strictEqual(GOLDEN.length, 4);
    assert.ok(GENERATED.length >= 20, `only ${GENERATED.length} generated fixtures`);
    for (const f of [...GOLDEN, ...GENERATED])
      assert.ok(fs.existsSync(path.join(REPO_ROOT, f.ref)), `${f.ref} missing`);
  });

  it('the comparison catches a wrong number, a missing lag and a missing gradient', () => {
    const ref = readJson(GOLDEN[0].ref);
    const got = analyzeInProcess(GOLDEN[0].model);
    assert.deepStrictEqual(compareWithReference(ref, got), []);
    const perturbed = JSON.parse(JSON.stringify(got)) as Obj;
    const lag = ((perturbed.layers as Obj[])[0].lags as Obj[])[1];
    lag.mean = (lag.mean as number) * (1 + 1e-7);
    perturbed.loss = (perturbed.loss as number) * (1 + 1e-8);
    const bad = compareWithReference(ref, perturbed);
    assert.ok(
      bad.some((b) => b.startsWith('layers[0].lags[1].mean')),
      bad.join('\n'),
    );
    assert.ok(
      bad.some((b) => b.startsWith('loss')),
      bad.join('\n'),
    );
    const truncated = JSON.parse(JSON.stringify(got)) as Obj;
    ((truncated.layers as Obj[])[0].lags as Obj[]).pop();
    delete (truncated.gradients as Obj).weight_hh_l0;
    const bad2 = compareWithReference(ref, truncated);
    assert.ok(
      bad2.some((b) => b.includes('lags:')),
      bad2.join('\n'),
    );
    assert.ok(bad2.includes('gradients.weight_hh_l0 missing'), bad2.join('\n'));
    // The clipping figures the comparison used to ignore: a share and the recommended clip_norm.
    const clip = JSON.parse(JSON.stringify(got)) as Obj;
    const c = clip.clipping as { suggestions: Obj[]; recommended: Obj };
    c.suggestions[0].clipped_share = (c.suggestions[0].clipped_share as number) + 0.25;
    c.recommended.clip_norm = (c.recommended.clip_norm as number) * (1 + 1e-7);
    const bad3 = compareWithReference(ref, clip);
    assert.ok(
      bad3.some((b) => b.startsWith(`clipping.suggestions.${String(c.suggestions[0].method)}.clipped_share`)),
      bad3.join('\n'),
    );
    assert.ok(
      bad3.some((b) => b.startsWith('clipping.recommended.clip_norm')),
      bad3.join('\n'),
    );
  });

  it('the clip-* references have at least 10 batches of unequal norms, and every v2 clip reference is checked', () => {
    const clips = GENERATED_V2.filter((f) => f.name.startsWith('clip-'));
    assert.ok(clips.length >= 3, `only ${clips.length} clip-* fixtures`);
    for (const f of clips) {
      const norms = (readJson(f.ref).clipping as Obj).batch_norms as number[];
      assert.ok(norms.length >= 10, `${f.name}: ${norms.length} batches`);
      const sorted = [...norms].sort((a, b) => a - b);
      assert.ok(sorted[sorted.length - 1] > 2 * sorted[0], `${f.name}: norms nearly equal`);
      assert.ok(!needsCheckpointReaders(f.model), `${f.name} is skipped`);
    }
  });

  describe('in-process (parseModel + analyzeModel)', () => {
    for (const f of [...GOLDEN, ...GENERATED]) {
      const label = `${path.basename(path.dirname(f.model))}/${f.name}`;
      it(`${label} matches its reference`, () => {
        const got = analyzeInProcess(f.model);
        assertMatches(readJson(f.ref), got, label);
        assert.deepStrictEqual(nonFinitePaths(got), [], 'NaN or Infinity in the report');
        assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(got))), []);
        assert.strictEqual(got.report_version, 1);
      });
    }
  });

  describe('version 2 (test/fixtures/generated-v2, PyTorch autograd references of make_fixtures_v2.py)', () => {
    it('finds the fixtures', () => assert.ok(GENERATED_V2.length >= 40, `only ${GENERATED_V2.length}`));
    for (const f of GENERATED_V2) {
      const files = needsCheckpointReaders(f.model) ? ' (weights or data read from files)' : '';
      it(`generated-v2/${f.name} matches its reference${files}`, () => {
        const got = analyzeInProcess(f.model);
        const ref = readJson(f.ref);
        assertMatches(ref, got, f.name);
        assert.deepStrictEqual(version2Problems(ref, got, clipNormOf(f.model)).slice(0, 8), [], f.name);
        assert.deepStrictEqual(compareCellStats(ref, got).slice(0, 8), [], `${f.name}: gates and units`);
        assert.deepStrictEqual(nonFinitePaths(got), [], 'NaN or Infinity in the report');
        assert.deepStrictEqual(reportContractProblems(JSON.parse(JSON.stringify(got))), []);
      });
    }
    it('golden-v2/bilstm-2layer-json matches its reference (when the shared golden set is present)', function () {
      const dir = path.join(GOLDEN_V2_DIR, 'bilstm-2layer-json');
      if (!fs.existsSync(dir)) this.skip();
      const text = fs.readFileSync(path.join(dir, 'bilstm-2layer-json.rnn.json'), 'utf8');
      const parsed = parseModel(text);
      assert.ok(parsed.model, JSON.stringify(parsed.problems));
      const got = analyzeModel(parsed.model, { file: 'bilstm', gradientValues: true }) as unknown as Obj;
      const ref = JSON.parse(fs.readFileSync(path.join(GOLDEN_V2_DIR, 'bilstm-2layer-json.ref.json'), 'utf8')) as Obj;
      assertMatches(ref, got, 'bilstm-2layer-json');
      assert.deepStrictEqual(version2Problems(ref, got), []);
      assert.deepStrictEqual(compareCellStats(ref, got), []);
    });
  });

  describe('built CLI (analyze FILE --json --gradients)', () => {
    before(function () {
      this.timeout(120_000);
      ensureBuilt();
    });
    for (const f of GOLDEN) {
      it(`golden/${f.name} matches its reference`, () => {
        const r = runCli(['analyze', f.model, '--json', '--gradients']);
        assert.strictEqual(r.status, 0, r.stderr);
        assert.doesNotMatch(r.stdout, /NaN|Infinity/);
        const got = JSON.parse(r.stdout) as Obj;
        assertMatches(readJson(f.ref), got, `golden/${f.name}`);
        assert.deepStrictEqual(reportContractProblems(got), []);
        assert.strictEqual(got.report_version, 1);
        assert.strictEqual(got.file, f.model);
      });
    }
  });
});
