// The built CLI (dist/cli.js) as a user runs it: summary, --json, --gradients, --max-lag, --fail-on,
// exit codes, and `FILE:LINE:COL: message` problems for wrong input.
import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { spawn, spawnSync } from 'child_process';
import { parseTree, type Node } from 'jsonc-parser';
import { CLI_JS, REPO_ROOT, ensureBuilt, runCli, type CliRun } from '../helpers/cli';
import { formatShort } from '../../../src/engine/report/format';
import { nonFinitePaths, reportContractProblems } from '../helpers/report';
import { TINY_HIDDEN, tinyWeightsFile, tinyWeightsModel } from '../helpers/models';

type Obj = Record<string, unknown>;
type KeyPath = (string | number)[];

const EXPLODING = 'examples/exploding-tanh.rnn.json';
const VANISHING = 'examples/vanishing-sigmoid.rnn.json';
const HEALTHY = 'examples/healthy-lstm.rnn.json';
const GRU_ST = 'examples/gru-safetensors.rnn.json';

function json(run: CliRun): Obj {
  assert.strictEqual(run.status, 0, run.stderr);
  return JSON.parse(run.stdout) as Obj;
}

function layers(r: Obj): Obj[] {
  return r.layers as Obj[];
}

function assertNoStackTrace(run: CliRun): void {
  assert.doesNotMatch(run.stderr, /^\s{4}at /m, `stack trace in stderr:\n${run.stderr}`);
  assert.doesNotMatch(run.stderr, /rnn-gradients: internal error/);
}

/** 1-based line:column of an offset (\n, \r\n and \r end lines). */
function lineCol(text: string, offset: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < offset; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) {
      line++;
      start = i + 1;
    }
  }
  return `${line}:${offset - start + 1}`;
}

/**
 * Offsets a problem about `keyPath` may sit on: every occurrence's key and value (duplicate keys
 * included), or the element for an index; where the path does not exist (a missing key), the deepest
 * existing ancestor's offsets and the start of the file.
 */
function candidateOffsets(text: string, keyPath: KeyPath): number[] {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const out = new Set<number>();
  if (!root) return [0];
  let level: Node[] = [root];
  for (const part of keyPath) {
    const next: Node[] = [];
    for (const node of level) {
      if (typeof part === 'number' && node.type === 'array' && node.children?.[part]) next.push(node.children[part]);
      if (typeof part === 'string' && node.type === 'object') {
        for (const prop of node.children ?? []) {
          if (prop.children?.[0]?.value === part) {
            out.add(prop.children[0].offset);
            if (prop.children[1]) {
              out.add(prop.children[1].offset);
              next.push(prop.children[1]);
            }
          }
        }
      }
      if (typeof part === 'number') for (const n of next) out.add(n.offset);
    }
    if (next.length === 0) {
      out.add(0); // a missing key: the problem may sit at the start of the file
      break;
    }
    level = next;
  }
  return [...out];
}

function formatKeyPath(p: KeyPath): string {
  let s = '';
  for (const part of p) s += typeof part === 'number' ? `[${part}]` : s === '' ? part : `.${part}`;
  return s;
}

describe('CLI (dist/cli.js)', function () {
  this.timeout(60_000);
  before(function () {
    this.timeout(180_000);
    ensureBuilt();
  });

  describe('summary', () => {
    let out: CliRun;
    before(() => {
      out = runCli(['analyze', EXPLODING]);
    });

    it('exits 0 and prints the file and model lines', () => {
      assert.strictEqual(out.status, 0, out.stderr);
      const lines = out.stdout.split('\n');
      assert.ok(lines[0].startsWith(EXPLODING), lines[0]);
      assert.ok(
        lines.some((l) => /^Model\s+rnn \(elman, tanh\), input 2, hidden 6, 1 layer, output 1$/.test(l)),
        out.stdout,
      );
      assert.match(out.stdout, /^Data\s+4 sequences × 16 steps$/m);
      assert.match(out.stdout, /^Loss\s+[-\d.e]+\s+grad norm [\d.e]+$/m);
    });

    it("shows each layer's regime", () => {
      assert.match(out.stdout, /^Layer 0\s+EXPLODING\s+σ_max 1\.5/m);
    });

    it('shows the lag table at lags 0, 1, 2, 5, 10 and the last (15)', () => {
      const rows = out.stdout
        .split('\n')
        .map((l) => /^ {4}(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null);
      assert.deepStrictEqual(
        rows.map((m) => Number(m[1])),
        [0, 1, 2, 5, 10, 15],
      );
      // means grow with the lag (about 1.5× per step)
      const means = rows.map((m) => Number(m[2]));
      for (let i = 1; i < means.length; i++)
        assert.ok(means[i] > means[i - 1], `mean at row ${i}: ${means.join(', ')}`);
    });

    it('a Gates block per layer: each gate of an lstm with the figures of the JSON report, then the units', () => {
      const file = 'test/fixtures/generated-v2/find-lstm-forget-closed.rnn.json';
      const run = runCli(['analyze', file]);
      assert.strictEqual(run.status, 0, run.stderr);
      const gates = layers(json(runCli(['analyze', file, '--json'])))[0].gates as Record<string, Obj>;
      const lines = run.stdout.split('\n');
      const head = lines.findIndex((l) => /^ {2}Gates\s+gate\s+mean\s+low\s+high\s+∂W_hh\s+∂W_ih$/.test(l));
      assert.ok(head > 0, run.stdout);
      const rows = lines.slice(head + 1, head + 5).map((l) => l.trim().split(/\s+/));
      assert.deepStrictEqual(
        rows.map((r) => r[0]),
        ['input', 'forget', 'cell', 'output'],
      );
      const forget = rows[1];
      assert.strictEqual(forget[1], '0.0685'); // mean 0.0685…
      assert.strictEqual(forget[2], '40%'); // saturated_low 0.4
      assert.strictEqual(forget[3], '0%');
      assert.strictEqual(forget[4], (gates.forget.weight_hh_grad_norm as number).toExponential(2));
      assert.strictEqual(forget[5], (gates.forget.weight_ih_grad_norm as number).toExponential(2));
      assert.match(lines[head + 5], /^ {2}Units\s+saturated 0%, dead 0, mean \|value\| 0\.0831$/);
      assert.match(run.stdout, /^Gates: mean activation; low, high: shares/m);
      assert.match(
        run.stdout,
        /warning: \[forget-gate-closed\] weights\.bias_ih_l0: Layer 0: the forget gate's mean activation is 0\.0685 \(< 0\.2\)/,
      );
    });

    it('an rnn layer has no gates but a Units line (dead units listed)', () => {
      assert.doesNotMatch(out.stdout, /^ {2}Gates/m);
      assert.match(out.stdout, /^ {2}Units\s+saturated \S+, dead 0, mean \|value\| [\d.]+$/m);
      const dead = runCli(['analyze', 'test/fixtures/generated-v2/find-rnn-relu-dead.rnn.json']);
      const units = layers(
        json(runCli(['analyze', 'test/fixtures/generated-v2/find-rnn-relu-dead.rnn.json', '--json'])),
      )[0].units as Obj;
      const idx = (units.dead_unit_indices as number[]).join(', ');
      assert.match(dead.stdout, new RegExp(`^ {2}Units\\s+saturated 0%, dead 3 of 6 \\(${idx}\\), mean`, 'm'));
    });

    it('the lag rows agree with the JSON report', () => {
      const r = json(runCli(['analyze', EXPLODING, '--json']));
      const lags = layers(r)[0].lags as Obj[];
      const row10 = out.stdout.split('\n').find((l) => /^ {4}10\s/.test(l));
      assert.ok(row10);
      assert.strictEqual(row10.trim().split(/\s+/)[1], (lags[10].mean as number).toExponential(2));
    });

    it('shows the recommended clip lines for PyTorch and Keras with the recommended numbers', () => {
      const r = json(runCli(['analyze', EXPLODING, '--json']));
      const rec = (r.clipping as Obj).recommended as { clip_norm: number; clip_value: number };
      const n = Number(/max_norm=([\d.e+-]+)\)/.exec(out.stdout)?.[1]);
      const v = Number(/clip_value=([\d.e+-]+)\)/.exec(out.stdout)?.[1]);
      assert.ok(Math.abs(n / rec.clip_norm - 1) < 0.01, `${n} vs ${rec.clip_norm}`);
      assert.ok(Math.abs(v / rec.clip_value - 1) < 0.01, `${v} vs ${rec.clip_value}`);
      assert.match(out.stdout, /PyTorch: torch\.nn\.utils\.clip_grad_norm_\(model\.parameters\(\), max_norm=/);
      assert.match(out.stdout, /torch\.nn\.utils\.clip_grad_value_\(model\.parameters\(\), clip_value=/);
      assert.match(out.stdout, /Keras: +optimizer = keras\.optimizers\.Adam\(clipnorm=[\d.e+-]+\) +# or clipvalue=/);
    });

    it('lists the findings with severity, code and path', () => {
      assert.match(out.stdout, /^Findings$/m);
      assert.match(out.stdout, /^ {2}warning: \[exploding-gradients\] weights\.weight_hh_l0: Layer 0: /m);
      assert.match(out.stdout, /^ {2}info: \[clip-always-triggers\] training\.clip_norm: /m);
    });

    it('a healthy model says "Findings: none" and shows its last lag (39)', () => {
      const h = runCli(['analyze', HEALTHY]);
      assert.strictEqual(h.status, 0, h.stderr);
      assert.match(h.stdout, /^Layer 0\s+STABLE/m);
      assert.match(h.stdout, /^Findings: none$/m);
      const lagsShown = h.stdout
        .split('\n')
        .map((l) => /^ {4}(\d+)\s/.exec(l)?.[1])
        .filter((x): x is string => x !== undefined)
        .map(Number);
      assert.deepStrictEqual(lagsShown, [0, 1, 2, 5, 10, 20, 39]);
    });
  });

  describe('summary of a bidirectional model', () => {
    const BILSTM = 'test/fixtures/generated-v2/bilstm-2layer-proj-emb.rnn.json';

    it('shows one block per layer and direction, "Layer 0 (reverse)" after "Layer 0", each with its own numbers', () => {
      const run = runCli(['analyze', BILSTM]);
      assert.strictEqual(run.status, 0, run.stderr);
      assert.match(
        run.stdout,
        /^Model\s+lstm, input \d+, hidden \d+, 2 layers, output \d+, bidirectional, projections 3$/m,
      );
      const heads = run.stdout.split('\n').filter((l) => /^Layer \d/.test(l));
      assert.deepStrictEqual(
        heads.map((l) => /^(Layer \d( \(reverse\))?)\s/.exec(l)?.[1]),
        ['Layer 0', 'Layer 0 (reverse)', 'Layer 1', 'Layer 1 (reverse)'],
      );
      const r = json(runCli(['analyze', BILSTM, '--json']));
      const sigma = layers(r).map((l) => formatShort(l.sigma_max as number));
      assert.ok(new Set(sigma).size > 1, `the directions' σ_max should differ: ${sigma.join(', ')}`);
      heads.forEach((h, i) =>
        assert.ok(h.includes(`σ_max ${sigma[i]},`) || h.endsWith(`σ_max ${sigma[i]}`), `${h} vs ${sigma[i]}`),
      );
      assert.deepStrictEqual(
        layers(r).map((l) => `${l.layer}${l.direction}`),
        ['0forward', '0reverse', '1forward', '1reverse'],
      );
    });
  });

  describe('--json, --gradients, --max-lag', () => {
    it('--json prints one report that matches the contract, without gradient values', () => {
      for (const file of [
        EXPLODING,
        VANISHING,
        HEALTHY,
        GRU_ST,
        'examples/irnn-identity.rnn.json',
        'examples/linear-orthogonal.rnn.json',
      ]) {
        const run = runCli(['analyze', file, '--json']);
        const r = json(run);
        assert.deepStrictEqual(reportContractProblems(r), [], file);
        assert.strictEqual(r.report_version, 1);
        assert.strictEqual(r.file, file);
        assert.doesNotMatch(run.stdout, /NaN|Infinity/);
        assert.deepStrictEqual(nonFinitePaths(r), []);
        for (const [name, g] of Object.entries(r.gradients as Record<string, Obj>))
          assert.ok(!('values' in g), `${file}: ${name} has values`);
      }
    });

    it('the examples have the regimes their README promises', () => {
      const expected: Record<string, string> = {
        [EXPLODING]: 'exploding',
        [VANISHING]: 'vanishing',
        [HEALTHY]: 'stable',
        [GRU_ST]: 'vanishing',
        'examples/irnn-identity.rnn.json': 'stable',
        'examples/linear-orthogonal.rnn.json': 'stable',
      };
      for (const [file, regime] of Object.entries(expected)) {
        assert.strictEqual(layers(json(runCli(['analyze', file, '--json'])))[0].regime, regime, file);
      }
    });

    it('--gradients adds values nested like the weights', () => {
      const r = json(runCli(['analyze', EXPLODING, '--json', '--gradients']));
      const g = r.gradients as Record<string, { values?: unknown; norm: number; max_abs: number }>;
      const whh = g.weight_hh_l0.values as number[][];
      assert.strictEqual(whh.length, 6);
      assert.ok(whh.every((row) => row.length === 6));
      assert.strictEqual((g.weight_ih_l0.values as number[][])[0].length, 2);
      assert.strictEqual((g.bias_hh_l0.values as number[]).length, 6);
      assert.deepStrictEqual(Object.keys(g).sort(), [
        'bias_hh_l0',
        'bias_ih_l0',
        'readout.bias',
        'readout.weight',
        'weight_hh_l0',
        'weight_ih_l0',
      ]);
      const flat = whh.flat();
      assert.ok(Math.abs(Math.hypot(...flat) / g.weight_hh_l0.norm - 1) < 1e-9);
      assert.ok(Math.abs(Math.max(...flat.map(Math.abs)) - g.weight_hh_l0.max_abs) < 1e-12 * g.weight_hh_l0.max_abs);
    });

    it('--max-lag 3 gives 4 lag entries (and --max-lag=3 too)', () => {
      for (const args of [['--max-lag', '3'], ['--max-lag=3']]) {
        const r = json(runCli(['analyze', HEALTHY, '--json', ...args]));
        assert.deepStrictEqual(
          (layers(r)[0].lags as Obj[]).map((e) => e.lag),
          [0, 1, 2, 3],
        );
      }
      const full = json(runCli(['analyze', HEALTHY, '--json']));
      assert.strictEqual((layers(full)[0].lags as Obj[]).length, 40);
    });

    it('weights from a .safetensors path load relative to the model file', () => {
      const r = json(runCli(['analyze', GRU_ST, '--json']));
      assert.strictEqual((r.model as Obj).cell, 'gru');
      assert.ok(typeof r.loss === 'number' && Number.isFinite(r.loss));
      assert.ok('weight_hh_l0' in (r.gradients as Obj));
    });
  });

  describe('--fail-on', () => {
    const cases: [string, string, number][] = [
      ['exploding', EXPLODING, 1],
      ['exploding', HEALTHY, 0],
      ['exploding', VANISHING, 0],
      ['vanishing', VANISHING, 1],
      ['vanishing', HEALTHY, 0],
      ['vanishing', EXPLODING, 0],
      ['any', EXPLODING, 1],
      ['any', VANISHING, 1],
      ['any', HEALTHY, 0],
    ];
    for (const [kind, file, code] of cases) {
      it(`--fail-on ${kind} exits ${code} on ${path.basename(file)}`, () => {
        const run = runCli(['analyze', file, '--fail-on', kind]);
        assert.strictEqual(run.status, code, run.stderr);
        assert.match(run.stdout, /^Layer 0 /m); // the summary is still printed
      });
    }
    for (const [kind, file, code] of [
      ['exploding', EXPLODING, 1],
      ['vanishing', VANISHING, 1],
      ['any', GRU_ST, 1],
      ['exploding', HEALTHY, 0],
    ] as const) {
      it(`--max-lag 1 does not change the verdict: --fail-on ${kind} still exits ${code} on ${path.basename(file)}`, () => {
        const capped = runCli(['analyze', file, '--max-lag', '1', '--fail-on', kind]);
        assert.strictEqual(capped.status, code, capped.stdout + capped.stderr);
        const full = runCli(['analyze', file]);
        const regimeLine = (s: string): string | undefined => s.split('\n').find((l) => l.startsWith('Layer 0 '));
        assert.strictEqual(regimeLine(capped.stdout), regimeLine(full.stdout));
        assert.doesNotMatch(capped.stdout, /too short|too few lags|UNDETERMINED/);
        const rows = capped.stdout.split('\n').filter((l) => /^ {4}\d+\s/.test(l));
        assert.deepStrictEqual(
          rows.map((l) => l.trim().split(/\s+/)[0]),
          ['0', '1'],
        );
      });
    }

    it('sequences too short for a trend: UNDETERMINED with a trend-undetermined finding; --fail-on any exits 0', () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-short-'));
      try {
        const file = path.join(dir, 'short.rnn.json');
        fs.writeFileSync(
          file,
          JSON.stringify({
            cell: 'lstm',
            input_size: 2,
            hidden_size: 3,
            init: { scheme: 'pytorch', seed: 1 },
            data: { generate: { sequences: 3, length: 2, seed: 2 } },
          }),
        );
        const run = runCli(['analyze', file, '--fail-on', 'any'], dir);
        assert.strictEqual(run.status, 0, run.stderr);
        assert.match(run.stdout, /^Layer 0 {2}UNDETERMINED /m);
        assert.match(run.stdout, /info: \[trend-undetermined\] weights\.weight_hh_l0: /);
        assert.doesNotMatch(run.stdout, /STABLE/);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });

    it('--fail-on with --json still prints the report', () => {
      const run = runCli(['analyze', EXPLODING, '--json', '--fail-on=exploding']);
      assert.strictEqual(run.status, 1);
      assert.strictEqual(layers(JSON.parse(run.stdout) as Obj)[0].regime, 'exploding');
    });
  });

  describe('wrong model files', () => {
    const dir = 'test/fixtures/invalid';
    const expected = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, dir, 'expected.json'), 'utf8')) as Record<
      string,
      { path: KeyPath; message_contains: string }
    >;

    it('expected.json covers every invalid fixture', () => {
      const files = fs.readdirSync(path.join(REPO_ROOT, dir)).filter((f) => f.endsWith('.rnn.json'));
      assert.deepStrictEqual(files.sort(), Object.keys(expected).sort());
    });

    for (const [name, exp] of Object.entries(expected)) {
      it(`${name}: exit 2, FILE:LINE:COL: ${formatKeyPath(exp.path) || '(file)'}: …${exp.message_contains}…`, () => {
        const rel = `${dir}/${name}`;
        const text = fs.readFileSync(path.join(REPO_ROOT, rel), 'utf8');
        const run = runCli(['analyze', rel]);
        assert.strictEqual(run.status, 2, `${run.stdout}\n${run.stderr}`);
        assert.strictEqual(run.stdout, '');
        assertNoStackTrace(run);
        const lines = run.stderr.trimEnd().split('\n');
        const re = new RegExp(`^${rel.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+): (.*)$`);
        for (const l of lines) assert.match(l, re);
        const key = formatKeyPath(exp.path);
        const hit = lines
          .map((l) => re.exec(l) as RegExpExecArray)
          .find((m) => m[3].includes(exp.message_contains) && (key === '' || m[3].startsWith(`${key}: `)));
        assert.ok(hit, `no line naming ${key || '(file)'} with "${exp.message_contains}":\n${run.stderr}`);
        const at = `${hit[1]}:${hit[2]}`;
        if (exp.path.length > 0) {
          const allowed = candidateOffsets(text, exp.path).map((o) => lineCol(text, o));
          assert.ok(allowed.includes(at), `${at} is not at ${key} (${allowed.join(', ')})`);
        }
      });
    }
  });

  describe('--precision, and exits 3 and 130', () => {
    it('--precision f32 agrees with f64 to 1e-4 in log10 on every lag mean; --precision f16 is a usage error', () => {
      const f64 = json(runCli(['analyze', EXPLODING, '--json']));
      const f32 = json(runCli(['analyze', EXPLODING, '--json', '--precision', 'f32']));
      const means = (r: Obj): number[] =>
        layers(r).flatMap((l) => (l.lags as Obj[]).map((e) => e.log10_mean as number));
      const a = means(f64);
      const b = means(f32);
      assert.strictEqual(a.length, b.length);
      assert.ok(a.length > 10);
      for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4, `lag ${i}: ${a[i]} vs ${b[i]}`);
      assert.deepStrictEqual(f32.loss, f64.loss, 'the loss is always float64');
      const bad = runCli(['analyze', EXPLODING, '--precision', 'f16']);
      assert.strictEqual(bad.status, 2);
      assert.match(bad.stderr, /--precision takes f64 or f32, got "f16"/);
    });

    it('an internal error (the worker bundle is missing) exits 3 with one line and no stack trace', () => {
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-cli-broken-'));
      try {
        fs.copyFileSync(CLI_JS, path.join(tmp, 'cli.js'));
        const r = spawnSync(process.execPath, [path.join(tmp, 'cli.js'), 'analyze', path.join(REPO_ROOT, EXPLODING)], {
          encoding: 'utf8',
          timeout: 30_000,
        });
        assert.strictEqual(r.status, 3, r.stderr);
        assert.strictEqual(r.stdout, '');
        assert.match(r.stderr, /^rnn-gradients: internal error: /);
        assert.strictEqual(r.stderr.trimEnd().split('\n').length, 1, r.stderr);
        assert.doesNotMatch(r.stderr, /^\s{4}at /m);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });

    it('Ctrl+C (SIGINT) during a long run exits 130 at once, saying "cancelled"', async () => {
      const child = spawn(
        process.execPath,
        [CLI_JS, 'analyze', path.join(REPO_ROOT, 'test/fixtures/workspace/long-run.rnn.json')],
        { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stderr = '';
      let stdout = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
        child.on('exit', (code) => resolve({ code, at: Date.now() })),
      );
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const sent = Date.now();
      child.kill('SIGINT');
      const { code, at } = await exited;
      assert.strictEqual(code, 130, `exit ${code}; stderr: ${stderr}`);
      assert.strictEqual(stderr, 'rnn-gradients: cancelled\n');
      assert.strictEqual(stdout, '');
      assert.ok(at - sent < 5000, `the CLI took ${at - sent} ms to stop after SIGINT`);
    });

    it('on a terminal, the progress line of a long run gives the estimated time left', async function () {
      this.timeout(90_000);
      // `script` (util-linux) runs the CLI on a pseudo-terminal, where the progress line is drawn.
      const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_JS)} analyze test/fixtures/workspace/long-run.rnn.json`;
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: REPO_ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      const line = /analyzing \S*long-run\.rnn\.json: [a-z ]+ (\d+)% · about (\d+) (s|min) left/;
      const deadline = Date.now() + 60_000;
      let match: RegExpMatchArray | null = null;
      while (!match && Date.now() < deadline && child.exitCode === null) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        match =
          output
            .split('\r')
            .map((l) => l.match(line))
            .find((m) => m) ?? null;
      }
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // ended already
      }
      await exited;
      assert.ok(match, `no progress line with the time left in: ${JSON.stringify(output.slice(-600))}`);
      // Drawn only once the run has made progress, and never below 5 s.
      assert.ok(Number(match[1]) > 0, match[0]);
      assert.ok(match[3] === 'min' || Number(match[2]) >= 5, match[0]);
    });

    it('the usage names every exit code, 130 included', () => {
      const run = runCli(['--help']);
      assert.match(run.stdout, /Exit codes: 0 .*; 1 .*; 2 .*; 3 internal error; 130 stopped by\s+Ctrl\+C/s);
    });
  });

  describe('usage and file errors', () => {
    const usage: [string, string[]][] = [
      ['no file', ['analyze']],
      ['unknown option', ['analyze', EXPLODING, '--frobnicate']],
      ['--max-lag without a number', ['analyze', EXPLODING, '--max-lag']],
      ['--max-lag -1', ['analyze', EXPLODING, '--max-lag', '-1']],
      ['--max-lag abc', ['analyze', EXPLODING, '--max-lag', 'abc']],
      ['--max-lag 2.5', ['analyze', EXPLODING, '--max-lag=2.5']],
      ['bad --fail-on', ['analyze', EXPLODING, '--fail-on', 'sometimes']],
      ['unknown command', ['analyse', EXPLODING]],
      ['two files', ['analyze', EXPLODING, HEALTHY]],
    ];
    for (const [label, args] of usage) {
      it(`${label}: exit 2 with a usage message`, () => {
        const run = runCli(args);
        assert.strictEqual(run.status, 2, run.stdout);
        assert.strictEqual(run.stdout, '');
        assert.match(run.stderr, /^rnn-gradients: /);
        assert.match(run.stderr, /Usage: rnn-gradients analyze FILE/);
        assertNoStackTrace(run);
      });
    }

    it('--help exits 0 with the usage on stdout', () => {
      const run = runCli(['--help']);
      assert.strictEqual(run.status, 0);
      assert.match(run.stdout, /^Usage: rnn-gradients analyze FILE/);
    });

    it('a missing file exits 2 with file:1:1:', () => {
      const run = runCli(['analyze', 'no/such/model.rnn.json']);
      assert.strictEqual(run.status, 2);
      assert.match(run.stderr, /^no\/such\/model\.rnn\.json:1:1: /);
      assertNoStackTrace(run);
    });

    describe('weights files', () => {
      let tmp: string;
      let root: string;
      const H = TINY_HIDDEN;
      const model = tinyWeightsModel;

      before(() => {
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rnn-cli-'));
        root = path.join(tmp, 'root');
        fs.mkdirSync(root);
        fs.writeFileSync(path.join(tmp, 'outside.safetensors'), tinyWeightsFile());
        fs.writeFileSync(path.join(root, 'inside.safetensors'), tinyWeightsFile());
        const full = tinyWeightsFile();
        fs.writeFileSync(path.join(root, 'truncated.safetensors'), full.subarray(0, full.length - 5));
        fs.writeFileSync(path.join(root, 'ok.rnn.json'), model('inside.safetensors'));
        fs.writeFileSync(path.join(root, 'escape.rnn.json'), model('../outside.safetensors'));
        fs.writeFileSync(path.join(root, 'truncated.rnn.json'), model('truncated.safetensors'));
      });
      after(() => fs.rmSync(tmp, { recursive: true, force: true }));

      it('a weights file inside the current directory loads (control)', () => {
        const run = runCli(['analyze', 'ok.rnn.json', '--json'], root);
        const r = json(run);
        assert.strictEqual((r.model as Obj).hidden_size, H);
      });

      it('a weights path escaping the current directory exits 2 naming weights', () => {
        const run = runCli(['analyze', 'escape.rnn.json'], root);
        assert.strictEqual(run.status, 2, run.stdout);
        const text = fs.readFileSync(path.join(root, 'escape.rnn.json'), 'utf8');
        const m = /^escape\.rnn\.json:(\d+):(\d+): weights: (.*)$/m.exec(run.stderr);
        assert.ok(m, run.stderr);
        assert.match(m[3], /outside/);
        assert.ok(
          candidateOffsets(text, ['weights'])
            .map((o) => lineCol(text, o))
            .includes(`${m[1]}:${m[2]}`),
          run.stderr,
        );
        assertNoStackTrace(run);
      });

      it('a truncated .safetensors file exits 2 naming weights', () => {
        const run = runCli(['analyze', 'truncated.rnn.json'], root);
        assert.strictEqual(run.status, 2, run.stdout);
        assert.match(run.stderr, /^truncated\.rnn\.json:\d+:\d+: weights: /m);
        assertNoStackTrace(run);
      });
    });
  });
});
