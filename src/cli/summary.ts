// The CLI's readable terminal summary of a report.
import type { LagEntry, LayerReport, Report, UnitsReport } from '../engine/report/types';
import {
  describeOrigin,
  formatDataShape,
  formatNorm,
  formatShare,
  formatShort,
  formatShortFromLog10,
  roundThreshold,
} from '../engine/report/format';
import { layerLabel, layerTitle } from '../engine/report/layers';

/** The lags the short table shows: 0, 1, 2, 5, 10, 20, 50, … up to the last, which is always shown. */
export function summaryLags(last: number): number[] {
  const out: number[] = [];
  for (let decade = 1; ; decade *= 10) {
    for (const m of [1, 2, 5]) {
      const lag = m * decade;
      if (lag >= last) {
        if (last > 0) out.push(last);
        return [0, ...out];
      }
      out.push(lag);
    }
  }
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

function lagRow(e: LagEntry): string {
  if (e.sampled) {
    const [lo, hi] = e.log10_mean_ci95 ?? [null, null];
    const interval = lo === null || hi === null ? '–' : `${formatShortFromLog10(lo)} … ${formatShortFromLog10(hi)}`;
    return (
      '    ' +
      pad(String(e.lag), 8) +
      pad(formatNorm(e.mean, e.log10_mean), 12) +
      pad(interval, 24) +
      formatNorm(e.contribution_mean, e.log10_contribution_mean ?? null)
    );
  }
  return (
    '    ' +
    pad(String(e.lag), 8) +
    pad(formatNorm(e.mean, e.log10_mean), 12) +
    pad(formatNorm(e.min ?? null, e.log10_min ?? null), 12) +
    pad(formatNorm(e.max ?? null, e.log10_max ?? null), 12) +
    formatNorm(e.contribution_mean, e.log10_contribution_mean ?? null)
  );
}

function layerBlock(l: LayerReport, hidden: number, proj: number): string[] {
  const lines: string[] = [];
  const spectra = [`σ_max ${formatShort(l.sigma_max)}`];
  if (l.spectral_radius !== null) spectra.push(`spectral radius ${formatShort(l.spectral_radius)}`);
  if (l.gamma !== null)
    spectra.push(
      `γ ${formatShort(l.gamma)}`,
      `σ_max·γ ${formatShort(l.sigma_max * l.gamma)} ${l.sigma_max * l.gamma < 1 ? '< 1' : '≥ 1'}`,
    );
  const horizon = l.evidence?.horizon;
  if (horizon)
    spectra.push(`gradient horizon lag ${horizon.lag} (${horizon.kind === 'decay' ? '< 10⁻³' : '> 10³'}× lag 0)`);
  const label = l.regime.toUpperCase() + (l.evidence?.borderline ? ' (borderline)' : '');
  lines.push(`${layerTitle(l.layer, l.direction)}  ${label}   ${spectra.join(', ')}`);
  if (l.evidence) lines.push(`  ${l.evidence.rule}`);
  if (l.lags[0]?.sampled)
    lines.push('    ' + pad('lag', 8) + pad('mean (est.)', 12) + pad('95% interval', 24) + 'contribution');
  else lines.push('    ' + pad('lag', 8) + pad('mean', 12) + pad('min', 12) + pad('max', 12) + 'contribution');
  const last = l.lags.length - 1;
  for (const lag of summaryLags(last)) if (l.lags[lag]) lines.push(lagRow(l.lags[lag]));
  lines.push(...gatesBlock(l, hidden, proj));
  return lines;
}

/** A gradient-block norm for the Gates table. */
function gradText(x: number | null): string {
  return x === null ? 'non-finite' : formatNorm(x, undefined);
}

/** The units line: saturated share, dead units, mean |value|. */
function unitsLine(label: string, u: UnitsReport, width: number): string {
  const dead = u.dead_units > 0 ? `${u.dead_units} of ${width}` : '0';
  const indices = u.dead_units > 0 && u.dead_unit_indices?.length ? ` (${u.dead_unit_indices.join(', ')})` : '';
  return `  ${label} saturated ${formatShare(u.saturated_share)}, dead ${dead}${indices}, mean |value| ${u.mean_abs === null ? '—' : formatShort(u.mean_abs)}`;
}

/**
 * A layer's "Gates" block (gates-and-timeline.md section 1): per gate its mean activation, saturated shares and
 * the norms of its blocks of the weight_hh / weight_ih gradients; then the units. Absent for reports without them.
 */
export function gatesBlock(l: LayerReport, hidden: number, proj: number): string[] {
  const lines: string[] = [];
  const gates = Object.entries(l.gates ?? {});
  if (gates.length > 0) {
    lines.push(
      '  Gates   ' + pad('gate', 8) + pad('mean', 8) + pad('low', 8) + pad('high', 8) + pad('∂W_hh', 12) + '∂W_ih',
    );
    for (const [name, g] of gates) {
      if (!g) continue;
      lines.push(
        '          ' +
          pad(name, 8) +
          pad(g.mean === null ? '—' : formatShort(g.mean), 8) +
          pad(formatShare(g.saturated_low), 8) +
          pad(formatShare(g.saturated_high), 8) +
          pad(gradText(g.weight_hh_grad_norm), 12) +
          gradText(g.weight_ih_grad_norm),
      );
    }
  }
  if (l.units) lines.push(unitsLine('Units  ', l.units, hidden));
  if (l.units_projected_h) lines.push(unitsLine('Proj h ', l.units_projected_h, proj));
  return lines;
}

/** The whole summary, ending with a newline. */
export function formatSummary(r: Report): string {
  const m = r.model;
  const kind = m.cell === 'rnn' ? `rnn (${m.form}, ${m.nonlinearity})` : m.cell;
  const extras: string[] = [];
  if (m.bidirectional) extras.push('bidirectional');
  if (m.proj_size > 0) extras.push(`projections ${m.proj_size}`);
  if (m.cell === 'gru' && m.gru_reset === 'before') extras.push('reset before the recurrent product');
  const lines: string[] = [];
  lines.push(`${r.file}${m.name ? `  "${m.name}"` : ''}`);
  lines.push(
    `Model   ${kind}, input ${m.input_size}, hidden ${m.hidden_size}, ${m.num_layers} layer${m.num_layers === 1 ? '' : 's'}, output ${m.output_size}` +
      extras.map((e) => `, ${e}`).join(''),
  );
  if (m.source && m.source.format !== 'json') lines.push(`Source  ${describeOrigin(m.source)} (${m.source.format})`);
  const synthetic = r.findings.some((f) => f.code === 'synthetic-data') ? ' (synthetic: no data given)' : '';
  lines.push(`Data    ${formatDataShape(r)}${synthetic}`);
  const ls = r.lag_sampling;
  if (ls) {
    lines.push(
      `Lags    estimated from a sample of ${ls.endpoints} end point${ls.endpoints === 1 ? '' : 's'} in ${ls.sequences} sequence${ls.sequences === 1 ? '' : 's'} (seed ${ls.seed}, ${formatShort(100 * ls.work_share)}% of the exact table's work), with 95% intervals; --exact for the exact table`,
    );
  }
  lines.push(
    `Loss    ${r.loss === null ? 'non-finite' : formatShort(r.loss)}    grad norm ${r.grad_norm === null ? 'non-finite' : formatShort(r.grad_norm)}`,
  );
  lines.push('');
  for (const l of r.layers) lines.push(...layerBlock(l, m.hidden_size, m.proj_size ?? 0), '');
  if (r.layers.some((l) => Object.keys(l.gates ?? {}).length > 0)) {
    lines.push(
      'Gates: mean activation; low, high: shares of unit-steps < 0.05 (tanh gates cell/new: < −0.95) and > 0.95;',
      "       ∂W_hh, ∂W_ih: norms of the gate's rows of the weight gradients.",
      '',
    );
  }
  const c = r.clipping;
  lines.push('Clipping');
  const finite = c.batch_norms.filter((n): n is number => n !== null);
  lines.push(
    `  ${c.batch_norms.length} batch${c.batch_norms.length === 1 ? '' : 'es'}; ` +
      c.suggestions.map((s) => `${s.method} ${formatShort(s.clip_norm)}`).join(', ') +
      (finite.length ? `; largest norm ${formatShort(Math.max(...finite))}` : ''),
  );
  const rec = c.recommended;
  if (rec.clip_norm !== null && rec.clip_value !== null) {
    // Rounded as the editor's quick fixes and the panel round them (three significant digits).
    const n = String(roundThreshold(rec.clip_norm));
    const v = String(roundThreshold(rec.clip_value));
    lines.push(`  Recommended: clip_norm ${n}, clip_value ${v}. ${rec.rationale}`);
    lines.push(`  PyTorch: torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm=${n})`);
    lines.push(`           torch.nn.utils.clip_grad_value_(model.parameters(), clip_value=${v})`);
    lines.push(`  Keras:   optimizer = keras.optimizers.Adam(clipnorm=${n})   # or clipvalue=${v}`);
  } else {
    lines.push(`  ${rec.rationale}`);
  }
  lines.push('');
  lines.push(r.findings.length ? 'Findings' : 'Findings: none');
  for (const f of r.findings) lines.push(`  ${f.severity}: [${f.code}] ${f.path.join('.')}: ${f.message}`);
  return lines.join('\n') + '\n';
}

/** The quick first result of a long run: each layer's short-lag trend, shown while the rest computes. */
export function formatPartial(r: Report): string {
  const lines = [`Short lags (0–${r.max_lag ?? '?'}) while the full lag table computes:`];
  for (const l of r.layers) {
    const shown = summaryLags(l.lags.length - 1)
      .filter((lag) => l.lags[lag])
      .map((lag) => `${lag}: ${formatNorm(l.lags[lag].mean, l.lags[lag].log10_mean)}`);
    const label = l.regime + (l.evidence?.borderline ? ' (borderline)' : '');
    lines.push(`  ${layerLabel(l.layer, l.direction)} ${label}; mean norm by lag ${shown.join(', ')}`);
  }
  return lines.join('\n') + '\n';
}
