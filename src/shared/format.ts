// Number formatting for the report panel: plain figures, powers of ten, and figures known only by their log10.

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
  if (x === 0) return '0';
  const a = Math.abs(x);
  if (a >= 1e5 || a < 1e-3) return x.toExponential(2).replace('e+', 'e');
  return String(Number(x.toPrecision(4)));
}

/** The figure whose base-10 logarithm is `log10`, written exactly even far outside the double range ("1.23e-400"). */
export function formatFromLog10(log10: number | null | undefined): string {
  if (log10 === null || log10 === undefined) return '0';
  if (!Number.isFinite(log10)) return '—';
  if (log10 > -3 && log10 < 5) return formatNumber(10 ** log10);
  let exponent = Math.floor(log10);
  let mantissa = 10 ** (log10 - exponent);
  if (Number(mantissa.toFixed(2)) >= 10) {
    mantissa /= 10;
    exponent += 1;
  }
  return `${mantissa.toFixed(2)}e${exponent}`;
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

/** A value rounded to 4 significant digits, as written into a model file or a code snippet. */
export function roundForConfig(x: number): number {
  return Number(x.toPrecision(4));
}
