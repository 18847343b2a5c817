// Clipping thresholds from the batch gradient norms (Pascanu et al. 2013: the average norm; AutoClip:
// a low percentile; the median), the recommended clip_norm and clip_value, and the share each clips.
import type { ClippingReport, ClipSuggestion } from './report/types';
import { formatShort } from './report/format';

/** Linear-interpolation percentile (numpy's default) of finite values; p in [0, 100]. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const pos = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Share (0..1) of the batches whose global gradient norm is strictly above the threshold: the batches that
 * clip_grad_norm_ would rescale. Overflowed batches (null norms) are left out of both counts, as they are out of
 * the suggestions. Null when no batch norm is finite. The one definition for the report and the panel (pure:
 * compiled into the webview too).
 */
export function clippedShare(batchNorms: readonly (number | null)[], threshold: number): number | null {
  let finite = 0;
  let clipped = 0;
  for (const n of batchNorms) {
    if (n === null) continue;
    finite++;
    if (n > threshold) clipped++;
  }
  return finite === 0 ? null : clipped / finite;
}

/**
 * Builds the clipping section. `batchNorms` are the global gradient norms per batch (null where
 * non-finite); `batchMaxAbs` the largest |element| of each batch gradient.
 */
export function suggestClipping(batchNorms: (number | null)[], batchMaxAbs: (number | null)[]): ClippingReport {
  const norms = batchNorms.filter((n): n is number => n !== null);
  const maxAbs = batchMaxAbs.filter((n): n is number => n !== null);
  if (norms.length === 0) {
    return {
      batch_norms: batchNorms,
      suggestions: [],
      recommended: {
        clip_norm: null,
        clip_value: null,
        method: 'mean',
        rationale: 'No batch has a finite gradient norm, so no threshold can be derived; fix the overflow first.',
      },
    };
  }
  const mean = norms.reduce((a, b) => a + b, 0) / norms.length;
  const suggestion = (method: string, clipNorm: number): ClipSuggestion => ({
    method,
    clip_norm: clipNorm,
    clipped_share: clippedShare(norms, clipNorm) ?? 0,
  });
  const suggestions = [
    suggestion('mean', mean),
    suggestion('autoclip_p10', percentile(norms, 10)),
    suggestion('median', percentile(norms, 50)),
  ];
  const clipValue = maxAbs.reduce((a, b) => a + b, 0) / maxAbs.length;
  const skipped = batchNorms.length - norms.length;
  return {
    batch_norms: batchNorms,
    suggestions,
    recommended: {
      clip_norm: mean,
      clip_value: clipValue,
      method: 'mean',
      rationale:
        `clip_norm ${formatShort(mean)} is the average batch gradient norm (Pascanu et al. 2013), which rescales ` +
        `${Math.round(100 * (clippedShare(norms, mean) ?? 0))}% of the ${norms.length} batches; clip_value ${formatShort(clipValue)} is the ` +
        `mean of each batch's largest |gradient element|.` +
        (skipped ? ` ${skipped} batch(es) with non-finite gradients were left out.` : ''),
    },
  };
}
