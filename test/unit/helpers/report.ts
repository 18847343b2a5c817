// Shared test helpers for reports: the reference comparison of /work/shared/tools/compare-report.py,
// a walk for non-finite numbers, the key contract of report-format.md (version 1), and two lag tables compared.
import * as assert from 'assert';
import type { Report } from '../../../src/engine/report/types';

const RTOL = 1e-9;

type Obj = Record<string, unknown>;

function isNum(x: unknown): x is number {
  return typeof x === 'number';
}

function flat(x: unknown): unknown[] {
  return Array.isArray(x) ? x.flatMap(flat) : [x];
}

/**
 * Compares a report with a reference report as compare-report.py does: 1e-9 relative on loss,
 * grad_norm, gradient norms and max_abs, gradient values (relative to the parameter's norm), the
 * layer spectra, every lag's figures and log10 figures (1e-9 absolute), batch norms and suggestions, the share
 * of batches each suggestion clips (exactly), and the recommendation: the mean suggestion's clip_norm, and the
 * clip_value when the reference has the batches' largest elements. Returns the mismatches (empty: equal).
 */
export function compareWithReference(ref: Obj, got: Obj): string[] {
  const bad: string[] = [];
  const close = (a: number | null, b: number | null, scale?: number): boolean => {
    if (a === null || b === null) return a === b;
    if (scale !== undefined) return Math.abs(a - b) <= RTOL * scale + 1e-300;
    return Math.abs(a - b) <= RTOL * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
  };
  const chk = (where: string, r: unknown, g: unknown, scale?: number): void => {
    // Two engine reports may both hold null (spectral_radius of an lstm); a reference's number needs a number.
    if (!(isNum(g) || g === null) || !close(r as number | null, g, scale))
      bad.push(`${where}: expected ${JSON.stringify(r)}, got ${JSON.stringify(g)}`);
  };
  chk('loss', ref.loss, got.loss);
  chk('grad_norm', ref.grad_norm, got.grad_norm);
  const rg = ref.gradients as Record<string, Obj>;
  const gg = (got.gradients ?? {}) as Record<string, Obj>;
  for (const [k, r] of Object.entries(rg)) {
    const g = gg[k];
    if (!g) {
      bad.push(`gradients.${k} missing`);
      continue;
    }
    chk(`gradients.${k}.norm`, r.norm, g.norm);
    chk(`gradients.${k}.max_abs`, r.max_abs, g.max_abs);
    const rv = flat(r.values);
    const gv = flat(g.values ?? []);
    if (rv.length !== gv.length) bad.push(`gradients.${k}.values: ${rv.length} numbers expected, got ${gv.length}`);
    else rv.forEach((a, i) => chk(`gradients.${k}.values[${i}]`, a, gv[i], r.norm as number));
  }
  const gl = (got.layers ?? []) as Obj[];
  (ref.layers as Obj[]).forEach((rl, li) => {
    const L = gl[li];
    if (!L) {
      bad.push(`layers[${li}] missing`);
      return;
    }
    for (const key of ['sigma_max', 'spectral_radius', 'gamma'])
      if (key in rl) chk(`layers[${li}].${key}`, rl[key], L[key]);
    const rlags = rl.lags as Obj[];
    const lags = (L.lags ?? []) as Obj[];
    if (lags.length !== rlags.length) {
      bad.push(`layers[${li}].lags: ${rlags.length} entries expected, got ${lags.length}`);
      return;
    }
    rlags.forEach((r, i) => {
      const g = lags[i];
      const w = `layers[${li}].lags[${r.lag}]`;
      if (g.lag !== r.lag || g.count !== r.count)
        bad.push(`${w}: lag/count ${r.lag}/${r.count} expected, got ${g.lag}/${g.count}`);
      for (const key of ['mean', 'min', 'max', 'contribution_mean']) chk(`${w}.${key}`, r[key], g[key]);
      for (const key of ['mean', 'min', 'max']) {
        const rv = r[key] as number;
        if (rv > 0) {
          const lg = g[`log10_${key}`];
          if (!isNum(lg) || Math.abs(lg - Math.log10(rv)) > 1e-9)
            bad.push(`${w}.log10_${key}: expected ${Math.log10(rv)}, got ${JSON.stringify(lg)}`);
        }
      }
    });
  });
  const rc = ref.clipping as Obj;
  const gc = (got.clipping ?? {}) as Obj;
  const rbn = rc.batch_norms as number[];
  const bn = (gc.batch_norms ?? []) as unknown[];
  if (bn.length !== rbn.length) bad.push(`clipping.batch_norms: ${rbn.length} expected, got ${bn.length}`);
  else rbn.forEach((a, i) => chk(`clipping.batch_norms[${i}]`, a, bn[i]));
  const sg = new Map(((gc.suggestions ?? []) as Obj[]).map((s) => [s.method, s]));
  const finiteRef = rbn.filter((n): n is number => n !== null);
  for (const s of rc.suggestions as Obj[]) {
    const g = sg.get(s.method);
    if (!g) {
      bad.push(`clipping.suggestions ${String(s.method)} missing`);
      continue;
    }
    chk(`clipping.suggestions.${String(s.method)}`, s.clip_norm, g.clip_norm);
    // The share of batches each threshold rescales: the reference's own figure when it gives one
    // (make_fixtures_v2.py), else counted here from the reference's finite batch norms and threshold.
    const want =
      'clipped_share_expected' in s
        ? s.clipped_share_expected
        : finiteRef.filter((n) => n > (s.clip_norm as number)).length / finiteRef.length;
    if (g.clipped_share !== want)
      bad.push(
        `clipping.suggestions.${String(s.method)}.clipped_share: expected ${String(want)}, got ${String(g.clipped_share)}`,
      );
  }
  // The recommendation (README "Clipping"): clip_norm is the mean suggestion (Pascanu et al.), clip_value the
  // mean of the batches' largest |gradient element| when the reference gives them.
  const rec = (gc.recommended ?? {}) as Obj;
  if (!isNum(rec.clip_norm) || !isNum(rec.clip_value)) bad.push('clipping.recommended needs clip_norm and clip_value');
  const refMean = (rc.suggestions as Obj[]).find((s) => s.method === 'mean');
  if (rec.method !== 'mean')
    bad.push(`clipping.recommended.method: expected "mean", got ${JSON.stringify(rec.method)}`);
  if (refMean) chk('clipping.recommended.clip_norm', refMean.clip_norm, rec.clip_norm);
  const maxAbs = rc.batch_max_abs as (number | null)[] | undefined;
  if (maxAbs) {
    const finite = maxAbs.filter((n): n is number => n !== null);
    chk('clipping.recommended.clip_value', finite.reduce((a, b) => a + b, 0) / finite.length, rec.clip_value);
  }
  return bad;
}

/**
 * Compares each layer's `gates` and `units` (and, when the reference has it, `units_projected_h`) with the
 * reference's (gates-and-timeline.md section 1): the same gate names, every figure at 1e-9 relative, dead_units
 * exactly. Returns the mismatches (empty: equal).
 */
export function compareCellStats(ref: Obj, got: Obj): string[] {
  const bad: string[] = [];
  const close = (a: unknown, b: unknown): boolean => {
    if (a === null || b === null) return a === b;
    if (!isNum(a) || !isNum(b)) return false;
    return Math.abs(a - b) <= RTOL * Math.max(Math.abs(a), Math.abs(b)) + 1e-300;
  };
  const units = (where: string, r: Obj, g: Obj | undefined): void => {
    if (!g) {
      bad.push(`${where} missing`);
      return;
    }
    for (const key of ['saturated_share', 'mean_abs'])
      if (!close(r[key], g[key]))
        bad.push(`${where}.${key}: expected ${JSON.stringify(r[key])}, got ${JSON.stringify(g[key])}`);
    if (g.dead_units !== r.dead_units)
      bad.push(`${where}.dead_units: expected ${JSON.stringify(r.dead_units)}, got ${JSON.stringify(g.dead_units)}`);
  };
  const gl = (got.layers ?? []) as Obj[];
  (ref.layers as Obj[]).forEach((rl, li) => {
    const L = gl[li];
    if (!L || !('gates' in rl)) return;
    const rg = rl.gates as Record<string, Obj>;
    const gg = (L.gates ?? {}) as Record<string, Obj>;
    const names = (o: object): string => Object.keys(o).sort().join(',');
    if (names(rg) !== names(gg)) bad.push(`layers[${li}].gates: gates ${names(rg)} expected, got ${names(gg)}`);
    for (const [name, r] of Object.entries(rg)) {
      const g = gg[name];
      if (!g) continue;
      for (const key of ['mean', 'saturated_low', 'saturated_high', 'weight_hh_grad_norm', 'weight_ih_grad_norm'])
        if (!close(r[key], g[key]))
          bad.push(
            `layers[${li}].gates.${name}.${key}: expected ${JSON.stringify(r[key])}, got ${JSON.stringify(g[key])}`,
          );
    }
    units(`layers[${li}].units`, rl.units as Obj, L.units as Obj | undefined);
    if ('units_projected_h' in rl)
      units(`layers[${li}].units_projected_h`, rl.units_projected_h as Obj, L.units_projected_h as Obj | undefined);
  });
  return bad;
}

/** Paths (like `layers[0].lags[3].mean`) of every number in `value` that is NaN or ±Infinity. */
export function nonFinitePaths(value: unknown, at = '$'): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [`${at} = ${value}`];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonFinitePaths(v, `${at}[${i}]`));
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => nonFinitePaths(v, `${at}.${k}`));
  return [];
}

/** Keys that report-format.md requires, per object, and the extra keys this project adds. */
const REQUIRED = {
  top: [
    'report_version',
    'file',
    'model',
    'sequences',
    'steps',
    'loss',
    'grad_norm',
    'gradients',
    'layers',
    'clipping',
    'findings',
  ],
  model: [
    'cell',
    'form',
    'nonlinearity',
    'input_size',
    'hidden_size',
    'num_layers',
    'output_size',
    // Version-2 fields every report carries (report/layers.ts reportVersion).
    'bidirectional',
    'proj_size',
    'gru_reset',
    'source',
  ],
  gradient: ['norm', 'max_abs'],
  layer: ['layer', 'direction', 'sigma_max', 'spectral_radius', 'gamma', 'regime', 'lags'],
  lag: ['lag', 'count', 'mean', 'min', 'max', 'contribution_mean', 'log10_mean', 'log10_min', 'log10_max'],
  /** An entry of a sampled lag table (report.lag_sampling not null): min/max only of the sample, renamed. */
  sampledLag: ['lag', 'count', 'mean', 'contribution_mean', 'log10_mean', 'sampled', 'log10_mean_ci95'],
  clipping: ['batch_norms', 'suggestions', 'recommended'],
  suggestion: ['method', 'clip_norm'],
  recommended: ['clip_norm', 'clip_value', 'method', 'rationale'],
  finding: ['severity', 'code', 'message', 'path'],
};
const EXTRA: Record<keyof typeof REQUIRED, string[]> = {
  top: ['heatmaps', 'max_lag', 'elapsed_ms', 'lag_sampling', 'lengths'],
  model: ['name'],
  gradient: ['values'],
  layer: ['evidence', 'gates', 'units', 'units_projected_h'],
  lag: ['log10_contribution_mean'],
  sampledLag: ['log10_contribution_mean', 'min_sampled', 'max_sampled', 'log10_min_sampled', 'log10_max_sampled'],
  clipping: [],
  suggestion: ['clipped_share'],
  recommended: [],
  finding: ['data'],
};

const numOrNull = (x: unknown): boolean => x === null || (typeof x === 'number' && Number.isFinite(x));

/**
 * Problems with the shape of a report (empty: it fits report-format.md): every required key present,
 * no key outside the spec and the documented extras, types and enums right, lag indices consecutive.
 */
export function reportContractProblems(report: unknown): string[] {
  const out: string[] = [];
  const keys = (o: unknown, kind: keyof typeof REQUIRED, at: string): o is Obj => {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) {
      out.push(`${at}: expected an object`);
      return false;
    }
    for (const k of REQUIRED[kind]) if (!(k in o)) out.push(`${at}: missing key ${k}`);
    for (const k of Object.keys(o))
      if (!REQUIRED[kind].includes(k) && !EXTRA[kind].includes(k)) out.push(`${at}: unexpected key ${k}`);
    return true;
  };
  if (!keys(report, 'top', '$')) return out;
  const r = report;
  if (r.report_version !== 1 && r.report_version !== 2)
    out.push(`$.report_version: expected 1 or 2, got ${JSON.stringify(r.report_version)}`);
  if (typeof r.file !== 'string') out.push('$.file: expected a string');
  if (keys(r.model, 'model', '$.model')) {
    const m = r.model;
    if (!['rnn', 'lstm', 'gru'].includes(m.cell as string)) out.push(`$.model.cell: ${JSON.stringify(m.cell)}`);
    for (const k of ['input_size', 'hidden_size', 'num_layers', 'output_size']) {
      if (!Number.isInteger(m[k]) || (m[k] as number) < 1) out.push(`$.model.${k}: expected a positive integer`);
    }
  }
  for (const k of ['sequences', 'steps'])
    if (!Number.isInteger(r[k]) || (r[k] as number) < 1) out.push(`$.${k}: expected a positive integer`);
  if (r.lengths !== undefined) {
    const l = r.lengths as Obj;
    const b = r.sequences as number;
    const t = r.steps as number;
    if (
      !Number.isInteger(l.min) ||
      !Number.isInteger(l.max) ||
      (l.min as number) < 1 ||
      (l.min as number) > (l.max as number) ||
      (l.min as number) * b > t ||
      (l.max as number) * b < t
    )
      out.push(`$.lengths: expected {min, max} with 1 ≤ min ≤ max and min·sequences ≤ steps ≤ max·sequences`);
  }
  for (const k of ['loss', 'grad_norm']) if (!numOrNull(r[k])) out.push(`$.${k}: expected a number or null`);
  if (r.gradients && typeof r.gradients === 'object') {
    for (const [name, g] of Object.entries(r.gradients as Obj)) {
      if (
        !/^((weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l\d+(_reverse)?|readout\.weight|readout\.bias|embedding\.weight)$/.test(
          name,
        )
      )
        out.push(`$.gradients: unexpected parameter ${name}`);
      if (keys(g, 'gradient', `$.gradients.${name}`)) {
        if (!numOrNull(g.norm) || !numOrNull(g.max_abs))
          out.push(`$.gradients.${name}: norm and max_abs must be numbers or null`);
      }
    }
  } else out.push('$.gradients: expected an object');
  if (Array.isArray(r.layers)) {
    r.layers.forEach((l: unknown, li: number) => {
      const at = `$.layers[${li}]`;
      if (!keys(l, 'layer', at)) return;
      // One entry per layer and direction: l0, l0 reverse, l1, …
      const bidirectional = (r.model as Obj | undefined)?.bidirectional === true;
      const want = bidirectional ? Math.floor(li / 2) : li;
      const wantDirection = bidirectional && li % 2 === 1 ? 'reverse' : 'forward';
      if (l.layer !== want) out.push(`${at}.layer: expected ${want}`);
      if (l.direction !== wantDirection) out.push(`${at}.direction: expected ${wantDirection}`);
      if (!['vanishing', 'exploding', 'stable', 'undetermined'].includes(l.regime as string))
        out.push(`${at}.regime: ${JSON.stringify(l.regime)}`);
      if (l.evidence !== undefined) out.push(...evidenceProblems(l.evidence, `${at}.evidence`));
      if (!numOrNull(l.sigma_max) || !numOrNull(l.spectral_radius) || !numOrNull(l.gamma))
        out.push(`${at}: spectra must be numbers or null`);
      if (!Array.isArray(l.lags)) {
        out.push(`${at}.lags: expected a list`);
        return;
      }
      const sampled = r.lag_sampling !== null && r.lag_sampling !== undefined;
      (l.lags as unknown[]).forEach((e, i) => {
        const kind = sampled ? 'sampledLag' : 'lag';
        if (!keys(e, kind, `${at}.lags[${i}]`)) return;
        if (e.lag !== i) out.push(`${at}.lags[${i}].lag: expected ${i}, got ${JSON.stringify(e.lag)}`);
        if (!Number.isInteger(e.count) || (e.count as number) < 1)
          out.push(`${at}.lags[${i}].count: expected a positive integer`);
        const numbers = sampled
          ? ['mean', 'contribution_mean', 'log10_mean', ...EXTRA.sampledLag]
          : REQUIRED.lag.slice(2);
        for (const k of numbers)
          if (k in e && !numOrNull(e[k])) out.push(`${at}.lags[${i}].${k}: expected a number or null`);
        if (sampled) {
          const ci = e.log10_mean_ci95;
          if (e.sampled !== true) out.push(`${at}.lags[${i}].sampled: expected true`);
          if (!Array.isArray(ci) || ci.length !== 2 || !ci.every(numOrNull))
            out.push(`${at}.lags[${i}].log10_mean_ci95: expected [lo, hi]`);
          else if (ci[0] !== null && ci[1] !== null && !((ci[0] as number) <= (ci[1] as number)))
            out.push(`${at}.lags[${i}].log10_mean_ci95: lo above hi`);
        }
      });
    });
  } else out.push('$.layers: expected a list');
  if (r.lag_sampling !== undefined && r.lag_sampling !== null) {
    const ls = r.lag_sampling as Obj;
    for (const k of ['endpoints', 'sequences', 'seed', 'strata'])
      if (!Number.isInteger(ls[k]) || (ls[k] as number) < 0) out.push(`$.lag_sampling.${k}: expected an integer`);
    if (typeof ls.work_share !== 'number' || !(ls.work_share > 0 && ls.work_share <= 1))
      out.push('$.lag_sampling.work_share: expected a share in (0, 1]');
  }
  if (keys(r.clipping, 'clipping', '$.clipping')) {
    const c = r.clipping;
    if (!Array.isArray(c.batch_norms) || !c.batch_norms.every(numOrNull))
      out.push('$.clipping.batch_norms: expected numbers or null');
    if (Array.isArray(c.suggestions))
      c.suggestions.forEach((s: unknown, i: number) => keys(s, 'suggestion', `$.clipping.suggestions[${i}]`));
    else out.push('$.clipping.suggestions: expected a list');
    if (keys(c.recommended, 'recommended', '$.clipping.recommended')) {
      if (!numOrNull(c.recommended.clip_norm) || !numOrNull(c.recommended.clip_value))
        out.push('$.clipping.recommended: clip_norm/clip_value');
    }
  }
  if (Array.isArray(r.findings)) {
    r.findings.forEach((f: unknown, i: number) => {
      if (!keys(f, 'finding', `$.findings[${i}]`)) return;
      if (!['error', 'warning', 'info'].includes(f.severity as string))
        out.push(`$.findings[${i}].severity: ${JSON.stringify(f.severity)}`);
      if (typeof f.code !== 'string' || typeof f.message !== 'string' || !f.message)
        out.push(`$.findings[${i}]: code and message must be strings`);
      if (!Array.isArray(f.path) || !f.path.every((p: unknown) => typeof p === 'string' || Number.isInteger(p)))
        out.push(`$.findings[${i}].path: expected keys and indices`);
    });
  } else out.push('$.findings: expected a list');
  return out;
}

/** The evidence keys this project adds to a layer (report-format.md allows more keys). */
const EVIDENCE_KEYS = [
  'log10_rate_per_step',
  'log10_ratio',
  'measured_lag',
  'pascanu_bound',
  'fit',
  'horizon',
  'borderline',
  'zero_from_lag',
  'rule',
];

/** Problems with a layer's evidence: every key present with its type, a fit exactly when there is a rate. */
function evidenceProblems(ev: unknown, at: string): string[] {
  if (ev === null || typeof ev !== 'object' || Array.isArray(ev)) return [`${at}: expected an object`];
  const e = ev as Obj;
  const out: string[] = [];
  for (const k of EVIDENCE_KEYS) if (!(k in e)) out.push(`${at}: missing key ${k}`);
  for (const k of Object.keys(e)) if (!EVIDENCE_KEYS.includes(k)) out.push(`${at}: unexpected key ${k}`);
  for (const k of ['log10_rate_per_step', 'log10_ratio', 'pascanu_bound'])
    if (!numOrNull(e[k])) out.push(`${at}.${k}: expected a number or null`);
  if (!Number.isInteger(e.measured_lag)) out.push(`${at}.measured_lag: expected an integer`);
  if (typeof e.borderline !== 'boolean') out.push(`${at}.borderline: expected a boolean`);
  if (typeof e.rule !== 'string' || !e.rule) out.push(`${at}.rule: expected a sentence`);
  if (e.zero_from_lag !== null && !Number.isInteger(e.zero_from_lag)) out.push(`${at}.zero_from_lag`);
  const fit = e.fit as Obj | null;
  if (fit !== null) {
    if (typeof fit !== 'object') out.push(`${at}.fit: expected an object or null`);
    else {
      for (const k of ['intercept', 'slope'])
        if (!isNum(fit[k]) || !Number.isFinite(fit[k])) out.push(`${at}.fit.${k}`);
      for (const k of ['from_lag', 'to_lag']) if (!Number.isInteger(fit[k])) out.push(`${at}.fit.${k}`);
      if (fit.slope !== e.log10_rate_per_step) out.push(`${at}.fit.slope differs from log10_rate_per_step`);
    }
  } else if (e.log10_rate_per_step !== null) out.push(`${at}: a rate without a fit`);
  const h = e.horizon as Obj | null;
  if (
    h !== null &&
    (typeof h !== 'object' || !Number.isInteger(h.lag) || !['decay', 'growth'].includes(h.kind as string))
  )
    out.push(`${at}.horizon: expected {lag, kind} or null`);
  return out;
}

/** log10 fields of two lag tables agree to `tol` (absolute, in log10), counts exactly. */
export function assertSameLags(a: Report, b: Report, tol: number): void {
  assert.strictEqual(b.layers.length, a.layers.length);
  a.layers.forEach((layer, k) => {
    assert.strictEqual(b.layers[k].lags.length, layer.lags.length, `layer ${k}: number of lags`);
    layer.lags.forEach((e, lag) => {
      const o = b.layers[k].lags[lag];
      assert.strictEqual(o.count, e.count, `layer ${k} lag ${lag}: count`);
      for (const key of ['log10_mean', 'log10_min', 'log10_max', 'log10_contribution_mean'] as const) {
        const x = e[key] ?? null;
        const y = o[key] ?? null;
        if (x === null || y === null) assert.strictEqual(y, x, `layer ${k} lag ${lag} ${key}`);
        else assert.ok(Math.abs(x - y) <= tol, `layer ${k} lag ${lag} ${key}: ${x} vs ${y}`);
      }
    });
  });
}
