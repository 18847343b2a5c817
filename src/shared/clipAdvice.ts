// What setting a clipping threshold changes, in words: one text for the quick fixes and the panel's buttons, with
// the number rounded the one way every face rounds it (roundThreshold).
import { formatNumber, roundThreshold } from '../engine/report/format';
import type { Report } from '../engine/report/types';
import { clippedShare } from '../engine/clipping';
import type { ClipKey } from './webviewProtocol';

/** The file's current training.clip_norm and clip_value (null when unset). */
export interface CurrentClip {
  clip_norm: number | null;
  clip_value: number | null;
}

/** What a clip_norm does to the report's batches: "clips every batch", "never clips", "clips 3 of 8 batches". */
export function clipNormEffect(batchNorms: readonly (number | null)[], threshold: number): string {
  const n = batchNorms.length;
  const share = clippedShare(batchNorms, threshold);
  if (share === null || n === 0) return 'no batches to compare with';
  const clipped = Math.round(share * n);
  if (clipped === n) return n === 1 ? 'clips the batch' : 'clips every batch';
  if (clipped === 0) return 'never clips';
  return `clips ${clipped} of ${n} batches`;
}

/** A suggested threshold for a key, rounded as the file will hold it; undefined when there is none. */
export function suggestedThreshold(report: Report, key: ClipKey): number | undefined {
  const value = report.clipping.recommended[key];
  return value !== null && Number.isFinite(value) && value > 0 ? roundThreshold(value) : undefined;
}

/** One action that sets a clipping threshold: what it sets, and whether the file already holds it. */
export interface ClipAction {
  key: ClipKey;
  value: number;
  /** The file already holds this value: nothing to do. */
  done: boolean;
  /** "Set clip_norm to 457: clips 3 of 8 batches (now 1: clips every batch)". */
  title: string;
}

/**
 * The action that sets `key` to `value`, titled with what changes: the new value and what it does, and the file's
 * current value and what that does (or that it is unset).
 */
export function clipAction(report: Report, key: ClipKey, value: number, current: CurrentClip): ClipAction {
  const rounded = roundThreshold(value);
  const now = current[key];
  const norms = report.clipping.batch_norms;
  const effect = (v: number): string => (key === 'clip_norm' ? `: ${clipNormEffect(norms, v)}` : '');
  if (now !== null && roundThreshold(now) === rounded) {
    return { key, value: rounded, done: true, title: `${key} is ${rounded}${effect(rounded)}` };
  }
  const before = now === null ? 'not set' : `now ${formatNumber(now)}${effect(now)}`;
  return { key, value: rounded, done: false, title: `Set ${key} to ${rounded}${effect(rounded)} (${before})` };
}

/** The actions for the report's recommended clip_norm and clip_value (those it has). */
export function recommendedClipActions(report: Report, current: CurrentClip): ClipAction[] {
  const out: ClipAction[] = [];
  for (const key of ['clip_norm', 'clip_value'] as const) {
    const value = suggestedThreshold(report, key);
    if (value !== undefined) out.push(clipAction(report, key, value, current));
  }
  return out;
}
