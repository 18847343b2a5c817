// How figures are written for people, in one module for every face: the engine's rule and finding texts and
// the CLI summary (formatShort…), the report panel (formatNumber, formatFromLog10, …), the terminal lag table
// (formatNorm) and the editor's hover and quick fixes. Each face keeps its own style; they share the rules
// below, and every figure known only by its log10 is carried the same way (9.996e5 is 1.00e6, not 10.00e5).

/** How a plain figure is written. */
interface FigureStyle {
  /** Significant digits of a plain figure. */
  significant: number;
  /** From this magnitude on (and below 1e-3), exponent form. */
  exponentFrom: number;
  /** Decimals of the exponent form's mantissa. */
  exponentDecimals: number;
  /** Write 1.5e5, not 1.5e+5. */
  compact: boolean;
}

/** Engine texts and the CLI: 3 significant digits, exponent form outside 1e-3..1e5. */
const SHORT: FigureStyle = { significant: 3, exponentFrom: 1e5, exponentDecimals: 2, compact: true };
/** The report panel: 4 significant digits, exponent form outside 1e-3..1e5. */
const PANEL: FigureStyle = { significant: 4, exponentFrom: 1e5, exponentDecimals: 2, compact: true };
/** The weight_hh hover: 4 significant digits, exponent form (3 decimals) outside 1e-3..1e6. */
const HOVER: FigureStyle = { significant: 4, exponentFrom: 1e6, exponentDecimals: 3, compact: false };

function formatFigure(x: number, style: FigureStyle): string {
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= style.exponentFrom || a < 1e-3) {
    const s = x.toExponential(style.exponentDecimals);
    return style.compact ? s.replace('e+', 'e') : s;
  }
  return String(Number(x.toPrecision(style.significant)));
}

/**
 * 10^log10 as a mantissa in [1, 10) with `decimals` decimals and an exponent, carried so that rounding never
 * writes a mantissa of 10 (log10 = 5.9999 at one decimal is 1.0e6, not 10.0e5). Works far outside the double
 * range, where the figure itself is 0 or Infinity.
 */
export function splitLog10(log10: number, decimals: number): { mantissa: string; exponent: number } {
  let exponent = Math.floor(log10);
  let mantissa = 10 ** (log10 - exponent);
  if (Number(mantissa.toFixed(decimals)) >= 10) {
    mantissa /= 10;
    exponent += 1;
  }
  return { mantissa: mantissa.toFixed(decimals), exponent };
}

// ---- engine texts and the CLI ----

/** A short human number: 3 significant digits, exponent form outside 1e-3..1e5 ("1.5e5"). */
export function formatShort(x: number): string {
  return formatFigure(x, SHORT);
}

/** 10^log10 as a short human number, also outside the double range ("3.2e-400"). */
export function formatShortFromLog10(log10: number): string {
  if (Math.abs(log10) < 5) return formatShort(10 ** log10);
  const { mantissa, exponent } = splitLog10(log10, 1);
  return `${mantissa}e${exponent}`;
}

/**
 * A norm for the terminal's lag tables ("1.23e-05"), from its exact log10 where the plain figure under- or
 * overflowed ("3.16e-400"); "—" when there is neither.
 */
export function formatNorm(value: number | null, log10: number | null | undefined): string {
  if (log10 === null || log10 === undefined) return value === null ? '—' : value === 0 ? '0' : value.toExponential(2);
  if (value !== null && value !== 0 && Number.isFinite(value)) return value.toExponential(2);
  const { mantissa, exponent } = splitLog10(log10, 2);
  return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

// ---- the report panel ----

const SUPERSCRIPT: Record<string, string> = {
  '-': '⁻',
  '0': '⁰',
  '1': '¹',
  '2': '²',
  '3': '³',
  '4': '⁴',
  '5': '⁵',
  '6': '⁶',
  '7': '⁷',
  '8': '⁸',
  '9': '⁹',
};

/** "10⁻³⁰⁰" for k = -300: an axis label for an integer log10 value. */
export function formatPowerOfTen(k: number): string {
  if (k === 0) return '1';
  if (k === 1) return '10';
  let sup = '';
  for (const ch of String(Math.round(k))) sup += SUPERSCRIPT[ch] ?? ch;
  return `10${sup}`;
}

/** A figure for people: 4 significant digits, exponent form outside 1e-3..1e5; "—" for null or non-finite. */
export function formatNumber(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '—';
  return formatFigure(x, PANEL);
}

/** The figure whose base-10 logarithm is `log10`, written exactly even far outside the double range ("1.23e-400"). */
export function formatFromLog10(log10: number | null | undefined): string {
  if (log10 === null || log10 === undefined) return '0';
  if (!Number.isFinite(log10)) return '—';
  if (log10 > -3 && log10 < 5) return formatNumber(10 ** log10);
  const { mantissa, exponent } = splitLog10(log10, 2);
  return `${mantissa}e${exponent}`;
}

/** A share in 0..1 as a percentage with sensible precision ("0.5%", "12%", "100%"); "—" for null. */
export function formatShare(share: number | null): string {
  if (share === null || !Number.isFinite(share)) return '—';
  const p = share * 100;
  if (p === 0) return '0%';
  if (p < 0.1) return '<0.1%';
  if (p < 10) return `${Number(p.toFixed(1))}%`;
  if (p > 99.9 && p < 100) return '>99.9%';
  return `${Math.round(p)}%`;
}

// ---- the data's shape ----

/**
 * The data as people count it: "4 sequences × 16 steps" when every sequence has the same length, "3 sequences of
 * 10–16 steps (38 in all)" when they differ, "1 sequence of 16 steps" for one. Reports without `lengths` (written
 * before it existed) fall back to the total: "4 sequences, 64 steps in all".
 */
export function formatDataShape(report: {
  sequences: number;
  steps: number;
  lengths?: { min: number; max: number };
}): string {
  const b = report.sequences;
  const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  const l = report.lengths;
  if (!l) return `${plural(b, 'sequence')}, ${plural(report.steps, 'step')} in all`;
  if (b === 1) return `1 sequence of ${plural(l.max, 'step')}`;
  if (l.min === l.max) return `${plural(b, 'sequence')} × ${plural(l.max, 'step')}`;
  return `${plural(b, 'sequence')} of ${l.min}–${l.max} steps (${report.steps} in all)`;
}

// ---- clipping thresholds ----

/**
 * A clipping threshold as every face writes it into a file or a line of code: three significant digits
 * (4.153217 -> 4.15, 12345 -> 12300). The quick fixes, the panel's buttons and copy lines and the CLI's PyTorch and
 * Keras lines all use it, so they always name the same number.
 */
export function roundThreshold(value: number): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(3));
}

// ---- the editor ----

/** A number in the weight_hh hover: 4 significant digits, exponent form outside 1e-3..1e6; "n/a" when missing. */
export function formatHoverNumber(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return formatFigure(value, HOVER);
}

/** 10^log10 in the hover, exact in exponent form when the double would under- or overflow. */
export function formatHoverPow10(log10: number): string {
  if (log10 > -300 && log10 < 300) return formatHoverNumber(10 ** log10);
  const { mantissa, exponent } = splitLog10(log10, 3);
  return `${formatHoverNumber(Number(mantissa))}e${exponent}`;
}

/** "weights from model.pt, module encoder": what a report's faces say about where the weights came from. */
export function describeOrigin(origin: { format: string; path?: string; module: string }): string {
  if (origin.format === 'json') return 'inline weights';
  const file = origin.path ?? 'a file';
  return origin.module === '' ? `weights from ${file}` : `weights from ${file}, module ${origin.module}`;
}
