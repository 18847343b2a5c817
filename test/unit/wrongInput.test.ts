// Wrong input that used to slip through (issue 11 point 7): a UTF-8 byte order mark, arrays nested tens of
// thousands deep (in the engine's reader and in the extension's and the timeline cache's JSON walks), and
// property-based mutations of valid model files, which must always end in exit 0, 1 or 2 with no stack trace
// and no "internal error": many in-process through the worker's own code path (runAnalysis, as the CLI's
// worker runs it), fewer through the built CLI. FUZZ_RUNS scales the in-process cases, FUZZ_SEED replays one.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import fc from 'fast-check';
import { parseModel } from '../../src/engine/model/parse';
import { runAnalysis } from '../../src/worker/runAnalysis';
import { formatProblem } from '../../src/io/position';
import { formatSummary } from '../../src/cli/summary';
import { keyPathAtOffset, parseJsonc, spanOfPath } from '../../src/extension/jsonLocationLogic';
import { forgetBiases } from '../../src/extension/editLogic';
import { cacheKey } from '../../src/io/timeline/cache';
import { ensureBuilt, REPO_ROOT, runCli } from './helpers/cli';

const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const SEED = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const BOM = '\uFEFF';

/** A model whose data.inputs are nested `depth` arrays deep. */
function deepText(depth: number): string {
  return `{"cell": "rnn", "input_size": 1, "hidden_size": 2,\n "data": {"inputs": ${'['.repeat(depth)}${']'.repeat(depth)}}}`;
}

/** Everything that says a defect instead of a message about the input. */
const DEFECT = /internal error|Maximum call stack|RangeError|TypeError|ReferenceError|\n\s+at .+:\d+:\d+/;

describe('wrong input: byte order mark, deep nesting', () => {
  let dir = '';
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-wrong-input-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a UTF-8 byte order mark at the start is accepted (engine and CLI), positions stay right', () => {
    const text = fs.readFileSync(path.join(REPO_ROOT, 'examples/exploding-tanh.rnn.json'), 'utf8');
    const parsed = parseModel(BOM + text);
    assert.ok(parsed.model, JSON.stringify(parsed.problems));
    const file = path.join(dir, 'bom.rnn.json');
    fs.writeFileSync(file, BOM + text);
    const run = runCli(['analyze', file, '--json'], dir);
    assert.strictEqual(run.status, 0, run.stderr);
    // A wrong value on line 2 is still reported at its line and column (the mark is not a column).
    const bad = path.join(dir, 'bom-bad.rnn.json');
    fs.writeFileSync(bad, `${BOM}{\n  "cell": "rnm"\n}\n`);
    const wrong = runCli(['analyze', bad], dir);
    assert.strictEqual(wrong.status, 2, wrong.stderr);
    assert.match(wrong.stderr, /bom-bad\.rnn\.json:2:11: cell: /);
  });

  it('arrays nested 30000 deep: a clean invalid-model problem naming the key (engine, CLI)', function () {
    this.timeout(60_000);
    const text = deepText(30_000);
    const parsed = parseModel(text);
    assert.strictEqual(parsed.model, undefined);
    assert.strictEqual(parsed.problems.length, 1, JSON.stringify(parsed.problems.slice(0, 3)));
    const p = parsed.problems[0];
    assert.deepStrictEqual(p.path.slice(0, 2), ['data', 'inputs']);
    assert.match(p.message, /nested more than \d+ levels deep/);
    assert.doesNotMatch(p.message, DEFECT);
    const file = path.join(dir, 'deep.rnn.json');
    fs.writeFileSync(file, text);
    const run = runCli(['analyze', file], dir);
    assert.strictEqual(run.status, 2, run.stderr);
    assert.match(run.stderr, /deep\.rnn\.json:2:11: data\.inputs: arrays or objects nested more than \d+ levels deep/);
    assert.doesNotMatch(run.stderr, DEFECT);
    // Objects too, and a deep value under an unknown key.
    const objects = parseModel(`{"name": ${'{"a":'.repeat(20_000)}1${'}'.repeat(20_000)}}`);
    assert.strictEqual(objects.problems.length, 1);
    assert.match(objects.problems[0].message, /nested more than/);
    assert.deepStrictEqual(objects.problems[0].path.slice(0, 2), ['name', 'a']);
  });

  it("the extension's JSON helpers and the timeline cache survive 30000-deep text", async () => {
    const text = deepText(30_000);
    assert.strictEqual(parseJsonc(text), undefined);
    assert.deepStrictEqual(spanOfPath(text, ['data', 'inputs']), { offset: 0, length: 1 });
    assert.strictEqual(keyPathAtOffset(text, 10), undefined);
    assert.deepStrictEqual(forgetBiases(text), []);
    const key = await cacheKey(text, path.join(dir, 'deep.rnn.json'), dir, {}, 'test');
    assert.strictEqual(typeof key, 'string');
    // Ordinary nesting still parses.
    assert.ok(parseJsonc(deepText(40)));
  });
});

// ----- property-based: random mutations of valid model files -----

/** Small valid models (rnn, lstm, gru; inputs, generated data, init) to mutate. */
const SEEDS: string[] = [
  'examples/exploding-tanh.rnn.json',
  'test/fixtures/golden/lstm.rnn.json',
  'test/fixtures/golden/gru.rnn.json',
]
  .filter((rel) => fs.existsSync(path.join(REPO_ROOT, rel)))
  .map((rel) => fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8'))
  .concat([
    JSON.stringify({
      cell: 'lstm',
      input_size: 2,
      hidden_size: 3,
      num_layers: 2,
      init: { scheme: 'orthogonal', seed: 1, forget_bias: 1 },
      data: { generate: { sequences: 2, length: 6, seed: 2 } },
      training: { clip_norm: 1, batch_size: 1 },
    }),
    JSON.stringify({
      cell: 'rnn',
      weights: {
        weight_ih_l0: [[0.5], [-0.3]],
        weight_hh_l0: [
          [0.9, 0.1],
          [-0.2, 0.8],
        ],
        bias_hh_l0: [0, 0.1],
      },
      data: { inputs: [[[1], [0], [-1], [0.5]]] },
      loss: 'sum',
    }),
  ]);

/** JSON-ish fragments a mutation inserts: structure, numbers at the edges of the range, keys, deep nesting. */
const FRAGMENTS = [
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  '"',
  'null',
  'true',
  '-1',
  '0',
  '1e308',
  '1e309',
  '-0',
  '1e-320',
  '1000000000',
  'NaN',
  '"hidden_size": 0',
  '"num_layers": 100000',
  '"length": 1000000000',
  '"sequences": -3',
  '"bidirectional": true',
  '"proj_size": 2',
  '"weights": "../../etc/passwd.safetensors"',
  '"weights": "x.pt"',
  '[[[[[[[[[[[[',
  '['.repeat(20_000),
  '{"a":'.repeat(5_000),
  '[[]]',
  BOM,
  '\u0000',
  '/*',
  '//',
  '\\u00',
];

type Mutation =
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; text: string }
  | { kind: 'replace'; at: number; length: number; text: string }
  | { kind: 'number'; nth: number; value: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 12 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ maxLength: 6 })),
  }),
  fc.record({
    kind: fc.constant('replace' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 6 }),
    text: fc.constantFrom(...FRAGMENTS),
  }),
  fc.record({
    kind: fc.constant('number' as const),
    nth: fc.nat(),
    value: fc.constantFrom('0', '-1', '2', '1e308', '1e-308', '3.5', '64', '-0', '1e400'),
  }),
);

function mutate(text: string, mutations: Mutation[]): string {
  let t = text;
  for (const m of mutations) {
    if (m.kind === 'number') {
      const numbers = [...t.matchAll(/-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g)];
      if (numbers.length === 0) continue;
      const hit = numbers[m.nth % numbers.length];
      t = t.slice(0, hit.index) + m.value + t.slice(hit.index + hit[0].length);
      continue;
    }
    const at = t.length === 0 ? 0 : m.at % (t.length + 1);
    if (m.kind === 'delete') t = t.slice(0, at) + t.slice(at + m.length);
    else if (m.kind === 'insert') t = t.slice(0, at) + m.text + t.slice(at);
    else t = t.slice(0, at) + m.text + t.slice(at + m.length);
  }
  return t;
}

const caseArb = fc.record({
  seed: fc.nat({ max: SEEDS.length - 1 }),
  mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
});

/** The exit code the CLI would give, from the worker's own code path; throws on a defect. */
async function exitOf(text: string, file: string, rootDir: string): Promise<number> {
  const result = await runAnalysis(
    { text, filePath: file, rootDir, displayPath: 'm.rnn.json', maxLag: null },
    { progress: () => undefined, isCancelled: () => false },
  );
  if (!result.ok) {
    assert.ok(result.problems.length > 0, 'a failed result without problems');
    for (const p of result.problems) {
      const line = formatProblem('m.rnn.json', text, p);
      assert.match(line, /^m\.rnn\.json:\d+:\d+: /, line);
      assert.doesNotMatch(line, DEFECT, line);
    }
    return 2;
  }
  assert.doesNotMatch(formatSummary(result.report), DEFECT);
  return 0;
}

describe('wrong input: random mutations of valid model files (fast-check)', function () {
  this.timeout(600_000);
  let dir = '';
  before(function () {
    this.timeout(120_000);
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-mutations-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every seed model is valid as it stands', async () => {
    for (const s of SEEDS) assert.strictEqual(await exitOf(s, path.join(dir, 'm.rnn.json'), dir), 0);
  });

  it(`in-process (runAnalysis, the worker's path): exit 0 or 2, a clean message, under 10 s each (${RUNS} cases)`, async () => {
    const codes = { valid: 0, syntax: 0, other: 0 };
    await fc.assert(
      fc.asyncProperty(caseArb, async ({ seed, mutations }) => {
        const text = mutate(SEEDS[seed], mutations);
        const started = Date.now();
        const code = await exitOf(text, path.join(dir, 'm.rnn.json'), dir);
        assert.ok(code === 0 || code === 2);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
        if (code === 0) codes.valid++;
        else if (parseModel(text).problems.every((p) => p.message.startsWith('syntax error'))) codes.syntax++;
        else codes.other++;
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    );
    if (process.env.FUZZ_STATS) console.log(codes);
    // The mutations reach past the JSON syntax: valid models and the readers' own problems both occur.
    if (RUNS >= 100) assert.ok(codes.valid > 0 && codes.other > 0, JSON.stringify(codes));
  });

  it('through the built CLI: exit 0, 1 or 2 with no stack trace or "internal error", under 10 s each (12 cases)', () => {
    const file = path.join(dir, 'cli.rnn.json');
    fc.assert(
      fc.property(caseArb, ({ seed, mutations }) => {
        fs.writeFileSync(file, mutate(SEEDS[seed], mutations));
        const started = Date.now();
        const run = runCli(['analyze', file, '--fail-on', 'any'], dir);
        assert.ok([0, 1, 2].includes(run.status ?? -1), `exit ${run.status}: ${run.stderr}`);
        assert.doesNotMatch(run.stderr, DEFECT);
        if (run.status === 2) assert.match(run.stderr, /cli\.rnn\.json:\d+:\d+: /);
        assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      }),
      { numRuns: 12, seed: SEED, endOnFailure: true },
    );
  });
});
