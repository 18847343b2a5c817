// How layers and directions are named in the report's faces (findings, CLI summary, panel, hover), and the
// report's version. Pure: compiled into the webview too.
import type { Direction, V2Feature } from '../model/types';

/** "layer 0", or "layer 0 (reverse)" for the reverse direction of a bidirectional layer. */
export function layerLabel(layer: number, direction: Direction | undefined): string {
  return direction === 'reverse' ? `layer ${layer} (reverse)` : `layer ${layer}`;
}

/** The same with a capital: "Layer 0 (reverse)", to start a sentence. */
export function layerTitle(layer: number, direction: Direction | undefined): string {
  const label = layerLabel(layer, direction);
  return label.charAt(0).toUpperCase() + label.slice(1);
}

/** A table cell naming a layer: "0", or "0 (reverse)". */
export function layerCell(layer: number, direction: Direction | undefined): string {
  return direction === 'reverse' ? `${layer} (reverse)` : String(layer);
}

/** The shortest name, for crowded labels: "L0", or "L0 rev". */
export function layerShort(layer: number, direction: Direction | undefined): string {
  return direction === 'reverse' ? `L${layer} rev` : `L${layer}`;
}

/** The suffix of a direction's PyTorch names: "" or "_reverse". */
export function nameSuffix(direction: Direction | undefined): string {
  return direction === 'reverse' ? '_reverse' : '';
}

/**
 * The report's `report_version`: 2 when the model file uses any version-2 feature (checkpoints.md: a checkpoint
 * or npz/onnx/keras weights, `module`, a string `readout` or `embedding`, bidirectional layers, projections,
 * an embedding, `gru_reset`, `data.tokens`, `data.lengths`, data from files, or no `data`), else 1. The
 * version-2 fields that make sense for every model (`layers[i].direction`, `model.bidirectional`,
 * `model.proj_size`, `model.gru_reset`, `model.source`) are in every report; version 1 allows extra keys.
 */
export function reportVersion(features: readonly V2Feature[]): 1 | 2 {
  return features.length > 0 ? 2 : 1;
}
