// Verdict texts never contradict their numbers. For every example, every fixture model that parses, and
// synthetic models on each side of the thresholds (with and without a lag cap), each sentence about a layer
// (the rule, its finding, the CLI summary, the hover and the panel's card) is checked against the report's
// own numbers: a falling or growing trend only with a rate of that sign and size, the horizon and the
// "stays within" claim against the lag table, "borderline" exactly when the slope is near a threshold, the
// zero claim only where the table is exactly zero, and no "survives N steps" past the horizon.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyzeModel } from '../../src/engine/analyze';
import type { LayerReport, Report } from '../../src/engine/report/types';
import { DEFAULT_THRESHOLDS } from '../../src/engine/regime';
import { loadModelFile } from '../../src/io/loadModel';
import { formatSummary } from '../../src/cli/summary';
import { weightHhHover } from '../../src/extension/reportLogic';
import { layerCards } from '../../src/shared/reportView/summary';
import { layerLabel, layerTitle, nameSuffix } from '../../src/engine/report/layers';
import { REPO_ROOT } from './helpers/cli';

/** A number as texts print it: "0.936", "-0.0285", "3.20e-4", "1.6e-175", "128". */
const NUM = String.raw`-?\d+(?:\.\d+)?(?:e[+-]?\d+)?`;

/** log10 of a printed number (handles figures outside the double range, "1.6e-400"). */
function log10Of(text: string): number {
  const m = /^(-?\d+(?:\.\d+)?)(?:e([+-]?\d+))?$/.exec(text);
  assert.ok(m, `not a number: ${text}`);
  return Math.log10(Math.abs(Number(m[1]))) + Number(m[2] ?? 0);
}

/** Printed figures carry about 3 significant digits: agree in log10 to 0.02 (under 5%). */
function near(printed: string, log10: number): boolean {
  return Math.abs(log10Of(printed) - log10) <= 0.02;
}

/** A printed signed number close to x (3 significant digits). */
function closeTo(printed: string, x: number): boolean {
  const v = Number(printed);
  return Math.abs(v - x) <= 0.006 * Math.max(Math.abs(x), 1e-12) + 1e-15;
}

interface Text {
  where: string;
  text: string;
}

/** The first lag whose mean norm leaves 10⁻³…10³ of lag 0's (exact zeros count as below), from the table alone. */
function tableHorizon(layer: LayerReport): { lag: number; kind: 'decay' | 'growth' } | null {
  const first = layer.lags[0]?.log10_mean ?? null;
  if (first === null) return null;
  for (const e of layer.lags) {
    if (e.log10_mean === null || e.log10_mean - first < -3) return { lag: e.lag, kind: 'decay' };
    if (e.log10_mean - first > 3) return { lag: e.lag, kind: 'growth' };
  }
  return null;
}

/** Whether a rate is within 10% of a default threshold (the reports checked here use the defaults). */
function nearThreshold(rate: number | null | undefined): boolean {
  if (rate === null || rate === undefined) return false;
  const t = DEFAULT_THRESHOLDS;
  return [t.vanishingLog10PerStep, t.explodingLog10PerStep].some((x) => Math.abs(rate - x) <= 0.1 * Math.abs(x));
}

/**
 * The problems of one layer's texts against the layer's numbers. The facts come from the lag table and the
 * rate (not from the evidence's own horizon and flags), so a wrong flag is caught as well as a wrong sentence.
 */
function contradictions(layer: LayerReport, texts: Text[]): string[] {
  const bad: string[] = [];
  const ev = layer.evidence;
  const lags = layer.lags;
  const first = lags[0]?.log10_mean ?? null;
  const horizon = tableHorizon(layer);
  const rate = ev?.log10_rate_per_step ?? null;
  const zeroLag = lags.find((e) => e.log10_mean === null)?.lag ?? null;
  const say = (t: Text, why: string): void => {
    bad.push(`${layerLabel(layer.layer, layer.direction)} ${t.where}: ${why}\n    "${t.text}"`);
  };
  if (ev?.horizon !== undefined && horizon && JSON.stringify(ev.horizon) !== JSON.stringify(horizon))
    bad.push(`layer ${layer.layer}: evidence.horizon ${JSON.stringify(ev.horizon)}, table ${JSON.stringify(horizon)}`);
  for (const t of texts) {
    const s = t.text;
    for (const m of s.matchAll(/surviv\w* (\d+) steps/g)) {
      const n = Number(m[1]);
      if (horizon && n >= horizon.lag) say(t, `claims survival for ${n} steps past the horizon at lag ${horizon.lag}`);
    }
    if (/\bborderline\b/.test(s) !== nearThreshold(rate))
      say(t, `"borderline" ${nearThreshold(rate) ? 'missing' : 'said'} (rate ${rate})`);
    if (zeroLag !== null && zeroLag <= (ev?.measured_lag ?? Infinity) && /× per step|by a factor/.test(s))
      say(t, `a per-step rate although the table is exactly zero at lag ${zeroLag}`);
    if (/too short to measure|too few lags/i.test(s) && layer.regime !== 'undetermined')
      say(t, `"too short" / "too few lags" with regime ${layer.regime}`);
    if (layer.regime === 'undetermined' && !/too few lags/i.test(s) && t.where !== 'panel card')
      say(t, 'an undetermined layer without saying why');
    for (const m of s.matchAll(new RegExp(`\\b(falls|grows|stays level at) (${NUM})× per step`, 'g'))) {
      if (rate === null) {
        say(t, 'a per-step factor without a fitted rate');
        continue;
      }
      if (!near(m[2], rate)) say(t, `factor ${m[2]}× per step, rate ${rate}`);
      if (m[1] === 'falls' && !(rate < 0)) say(t, `"falls" with rate ${rate}`);
      if (m[1] === 'grows' && !(rate > 0)) say(t, `"grows" with rate ${rate}`);
    }
    for (const m of s.matchAll(new RegExp(`\\b(decays|grows|stays level) by a factor (${NUM}) per step`, 'g'))) {
      if (rate === null) say(t, 'a per-step factor without a fitted rate');
      else {
        if (!near(m[2], rate)) say(t, `factor ${m[2]} per step, rate ${rate}`);
        if (m[1] === 'decays' && !(rate < 0)) say(t, `"decays" with rate ${rate}`);
        if (m[1] === 'grows' && !(rate > 0)) say(t, `"grows" with rate ${rate}`);
      }
    }
    for (const m of s.matchAll(
      new RegExp(`log10 slope (${NUM})(?: (≤|≥) (${NUM})| between (${NUM}) and (${NUM}))?`, 'g'),
    )) {
      if (rate === null) {
        say(t, 'a slope without a fitted rate');
        continue;
      }
      if (!closeTo(m[1], rate)) say(t, `slope ${m[1]}, rate ${rate}`);
      if (m[2] === '≤' && !(layer.regime === 'vanishing' && rate <= Number(m[3]))) say(t, `≤ with ${layer.regime}`);
      if (m[2] === '≥' && !(layer.regime === 'exploding' && rate >= Number(m[3]))) say(t, `≥ with ${layer.regime}`);
      if (m[4] !== undefined && !(layer.regime === 'stable' && rate > Number(m[4]) && rate < Number(m[5])))
        say(t, `"between" with ${layer.regime} and rate ${rate}`);
    }
    for (const m of s.matchAll(new RegExp(`to (${NUM})× its lag-0 value by lag (\\d+)`, 'g'))) {
      const e = lags.find((x) => x.lag === Number(m[2]));
      if (e && first !== null && e.log10_mean !== null && !near(m[1], e.log10_mean - first))
        say(t, `ratio ${m[1]} by lag ${m[2]}, table says 1e${e.log10_mean - first}`);
    }
    for (const m of s.matchAll(new RegExp(`at lag (\\d+) it is ×?(${NUM})× its lag-0 value`, 'g'))) {
      const e = lags.find((x) => x.lag === Number(m[1]));
      if (e && first !== null && e.log10_mean !== null && !near(m[2], e.log10_mean - first))
        say(t, `ratio ${m[2]} at lag ${m[1]}, table says 1e${e.log10_mean - first}`);
    }
    for (const m of s.matchAll(
      /(?:below 10⁻³ of its lag-0 value at lag|above 10³ times its lag-0 value at lag|horizon (?:at )?lag) (\d+)/g,
    )) {
      const n = Number(m[1]);
      // The table shown may be cut at a cap shorter than the lags the horizon was found in.
      if (horizon ? horizon.lag !== n : n <= (lags[lags.length - 1]?.lag ?? 0))
        say(t, `horizon at lag ${n}, the table's is ${JSON.stringify(horizon)}`);
    }
    for (const m of s.matchAll(/(?:stays within 10⁻³ to 10³ times its lag-0 value up to lag|none up to lag) (\d+)/g)) {
      if (horizon && horizon.lag <= Number(m[1]))
        say(t, `"stays within up to lag ${m[1]}" but the table leaves that range at lag ${horizon.lag}`);
    }
    for (const m of s.matchAll(/exactly zero (?:from lag (\d+)|at lag (\d+))/g)) {
      const z = Number(m[1] ?? m[2]);
      if (zeroLag !== z) say(t, `zero at lag ${z}, the table's first zero is at ${zeroLag}`);
      if (layer.regime !== 'vanishing') say(t, `an exactly-zero signal called ${layer.regime}`);
      if (m[1] !== undefined)
        for (const x of lags) if (x.lag > z && x.log10_mean !== null) say(t, `lag ${x.lag} is not zero`);
    }
    if (zeroLag !== null && zeroLag <= (ev?.measured_lag ?? Infinity) && layer.regime !== 'vanishing')
      say(t, `exactly zero at lag ${zeroLag} but ${layer.regime}`);
    const sufficient = /σ_max·γ = (\S+) < 1/.exec(s);
    if (sufficient && !(ev?.pascanu_bound !== null && (ev?.pascanu_bound ?? 2) < 1)) say(t, 'σ_max·γ < 1 claimed');
    const necessary = /σ_max·γ = (\S+) ≥ 1/.exec(s);
    if (necessary && !((ev?.pascanu_bound ?? -1) >= 1)) say(t, 'σ_max·γ ≥ 1 claimed');
  }
  return bad;
}

/** The report's key of a layer's W_hh: `weight_hh_l0`, `weight_hh_l0_reverse`. */
function hhKey(l: LayerReport): string {
  return `weight_hh_l${l.layer}${nameSuffix(l.direction)}`;
}

/** Every sentence the faces show about each layer (and direction) of a report, by its index in `layers`. */
function layerTexts(report: Report): Map<number, Text[]> {
  const out = new Map<number, Text[]>();
  const summary = formatSummary(report).split('\n');
  const cards = layerCards(report);
  report.layers.forEach((l, k) => {
    const texts: Text[] = [];
    const direction = l.direction ?? 'forward';
    if (l.evidence) texts.push({ where: 'evidence.rule', text: l.evidence.rule });
    for (const f of report.findings)
      if (f.path[1] === hhKey(l) || (f.data?.layer === l.layer && (f.data?.direction ?? 'forward') === direction))
        texts.push({ where: `finding ${f.code}`, text: f.message });
    const start = summary.findIndex((line) => line.startsWith(`${layerTitle(l.layer, l.direction)}  `));
    assert.ok(start >= 0, `no CLI summary line for ${layerTitle(l.layer, l.direction)}`);
    texts.push({ where: 'CLI summary', text: summary.slice(start, start + 2).join(' ') });
    const hover = weightHhHover(report, l.layer, direction);
    if (hover) texts.push({ where: 'hover', text: hover });
    const card = cards.find((c) => c.layer === l.layer && c.direction === direction);
    if (card) {
      const facts = card.facts.map((f) => `${f.label}: ${f.text ?? ''}`).join('; ');
      texts.push({ where: 'panel card', text: `${card.label}. ${card.rule} ${facts}` });
    }
    out.set(k, texts);
  });
  return out;
}

/** The regime words of the faces agree with the regime, and the finding codes with it. */
function labelProblems(report: Report): string[] {
  const bad: string[] = [];
  const summary = formatSummary(report);
  for (const l of report.layers) {
    const label = l.regime.toUpperCase() + (l.evidence?.borderline ? ' (borderline)' : '');
    const title = layerTitle(l.layer, l.direction);
    if (!summary.includes(`${title}  ${label} `)) bad.push(`${title}: CLI label is not ${label}`);
    const hover = weightHhHover(report, l.layer, l.direction ?? 'forward') ?? '';
    const word = l.evidence?.borderline ? `${l.regime} (borderline)` : l.regime;
    if (!hover.includes(`Regime: **${word}**`)) bad.push(`${title}: hover regime is not ${word}`);
    const codes: string[] = report.findings.filter((f) => f.path[1] === hhKey(l)).map((f) => f.code);
    const expect = {
      vanishing: 'vanishing-gradients',
      exploding: 'exploding-gradients',
      undetermined: 'trend-undetermined',
      stable: null,
    }[l.regime];
    for (const c of ['vanishing-gradients', 'exploding-gradients', 'trend-undetermined'])
      if (codes.includes(c) !== (c === expect)) bad.push(`${title} (${l.regime}): finding ${c}`);
  }
  return bad;
}

function reportOfFile(rel: string, maxLag: number | null = null): Report | undefined {
  const abs = path.join(REPO_ROOT, rel);
  const parsed = loadModelFile(fs.readFileSync(abs, 'utf8'), abs, path.dirname(abs));
  if (!parsed.model) return undefined;
  return analyzeModel(parsed.model, { file: rel, maxLag });
}

/** The workspace fixtures that are wrong on purpose (the editor tests' diagnostics): they have no report. */
const WRONG_BY_DESIGN = /\/(misspelt-key|non-finite-number|shape-mismatch|unknown-key)\.rnn\.json$/;

/** Model files in a folder of the repository (sorted). */
function modelFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(REPO_ROOT, dir))
    .filter((f) => f.endsWith('.rnn.json'))
    .sort()
    .map((f) => `${dir}/${f}`);
}

/** A one-layer linear rnn with W_hh = c·I (every lag norm c^ℓ times lag 0's), T steps, 2 sequences. */
function linearText(c: number, T: number): string {
  const H = 3;
  return JSON.stringify({
    cell: 'rnn',
    nonlinearity: 'linear',
    weights: {
      weight_ih_l0: [[0.3], [-0.2], [0.1]],
      weight_hh_l0: Array.from({ length: H }, (_, i) => Array.from({ length: H }, (_, j) => (i === j ? c : 0))),
    },
    data: { inputs: [0, 1].map((b) => Array.from({ length: T }, (_, t) => [Math.sin(t + b)])) },
    loss: 'sum',
  });
}

function synthetic(): [string, string][] {
  const t = DEFAULT_THRESHOLDS;
  const cases: [string, string][] = [];
  for (const rate of [t.vanishingLog10PerStep * 1.05, t.vanishingLog10PerStep * 0.95, t.explodingLog10PerStep * 0.95])
    cases.push([`linear, rate ${rate.toFixed(4)} (borderline)`, linearText(10 ** rate, 200)]);
  cases.push(['linear, rate −0.3 (horizon at lag 10)', linearText(0.5, 40)]);
  cases.push(['linear, rate +0.3 (growth horizon)', linearText(2, 40)]);
  cases.push(['linear, c = 1 (level)', linearText(1, 40)]);
  cases.push(['linear, W_hh = 0 (exactly zero from lag 1)', linearText(0, 12)]);
  cases.push(['linear, T = 2 (too short)', linearText(0.9, 2)]);
  return cases;
}

describe('verdict texts against their numbers', () => {
  const files = [
    ...modelFiles('examples'),
    ...modelFiles('test/fixtures/golden'),
    ...modelFiles('test/fixtures/generated'),
    ...modelFiles('test/fixtures/generated-v2'),
    // The long-run and responsiveness models (800–3000 steps) are for the extension's timing tests.
    ...modelFiles('test/fixtures/workspace').filter(
      (f) => !/long-run|responsiveness/.test(f) && !WRONG_BY_DESIGN.test(f),
    ),
  ];

  it('the fixtures left out as wrong on purpose do not load (so no report is left unchecked)', () => {
    const wrong = modelFiles('test/fixtures/workspace').filter((f) => WRONG_BY_DESIGN.test(f));
    assert.strictEqual(wrong.length, 4);
    for (const rel of wrong) assert.strictEqual(reportOfFile(rel), undefined, rel);
  });

  it('the scanner catches a contradiction (a stable text that claims survival past the horizon, a wrong sign)', () => {
    const r = analyzeModel(
      (() => {
        const p = loadModelFile(linearText(0.5, 40), path.join(REPO_ROOT, 'x.rnn.json'), REPO_ROOT);
        assert.ok(p.model);
        return p.model;
      })(),
      { file: 'x.rnn.json' },
    );
    const l = r.layers[0];
    assert.deepStrictEqual(contradictions(l, [{ where: 'rule', text: l.evidence!.rule }]), []);
    const wrong = [
      'Signal survives 30 steps.',
      'The mean gradient norm grows 0.5× per step.',
      'It stays within 10⁻³ to 10³ times its lag-0 value up to lag 39, the last lag measured.',
      'The verdict is borderline.',
      'The mean gradient norm is exactly zero from lag 3 on.',
    ];
    for (const text of wrong) assert.notDeepStrictEqual(contradictions(l, [{ where: 'test', text }]), [], text);
  });

  let checked = 0;
  for (const rel of files) {
    for (const cap of [null, 1]) {
      it(`${rel}${cap === null ? '' : ` (--max-lag ${cap})`}`, function () {
        this.timeout(60_000);
        const r = reportOfFile(rel, cap);
        assert.ok(r, `${rel} does not load`);
        const bad = [...labelProblems(r)];
        for (const [k, texts] of layerTexts(r)) bad.push(...contradictions(r.layers[k], texts));
        assert.deepStrictEqual(bad, []);
        checked++;
      });
    }
  }

  for (const [label, text] of synthetic()) {
    for (const cap of [null, 2]) {
      it(`${label}${cap === null ? '' : ` (--max-lag ${cap})`}`, () => {
        const parsed = loadModelFile(text, path.join(REPO_ROOT, 'synthetic.rnn.json'), REPO_ROOT);
        assert.ok(parsed.model, JSON.stringify(parsed.problems));
        const r = analyzeModel(parsed.model, { file: 'synthetic.rnn.json', maxLag: cap });
        const bad = [...labelProblems(r)];
        for (const [k, texts] of layerTexts(r)) bad.push(...contradictions(r.layers[k], texts));
        assert.deepStrictEqual(bad, []);
        checked++;
      });
    }
  }

  it('checked the examples and the v1 fixtures (at least 40 reports)', () => {
    assert.ok(checked >= 40, `only ${checked} reports checked`);
  });
});
