// Every golden and generated fixture (NAME.rnn.json + NAME.ref.json, references from PyTorch autograd)
// against the engine: in-process for all of them, and through the built CLI for the four golden ones.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { parseModel } from '../../src/engine/model/parse';
import { analyzeModel } from '../../src/engine/analyze';
import { REPO_ROOT, ensureBuilt, runCli } from './helpers/cli';
import { compareWithReference, nonFinitePaths, reportContractProblems } from './helpers/report';

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

function readJson(rel: string): Obj {
  return JSON.parse(fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8')) as Obj;
}

function analyzeInProcess(rel: string): Obj {
  const text = fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');
  const parsed = parseModel(text);
  assert.ok(parsed.model, `${rel} does not parse: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return analyzeModel(parsed.model, { file: rel, gradientValues: true }) as unknown as Obj;
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
