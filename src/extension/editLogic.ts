// Text edits of a model file that keep the user's formatting and comments (vscode-free, unit-tested):
// setting training.clip_norm / clip_value, and the LSTM forget-gate bias fix.
import { findNodeAtLocation, modify, type Edit, type FormattingOptions, type Node } from 'jsonc-parser';
import type { Direction } from '../engine/model/types';
import { nameSuffix } from '../engine/report/layers';
import type { ClipKey } from '../shared/webviewProtocol';
import { parseJsonc } from './jsonLocationLogic';

/** A replacement of `length` characters at `offset` by `content`, relative to the original text. */
export type TextEditSpec = Edit;

/** Default formatting when no editor tells us: two spaces, LF. */
export const defaultFormatting: FormattingOptions = { insertSpaces: true, tabSize: 2, eol: '\n' };

/** Edits that set `training.<key>` to `value`, creating `training` when absent. */
export function clipEdits(
  text: string,
  key: ClipKey,
  value: number,
  formatting: FormattingOptions = defaultFormatting,
): TextEditSpec[] {
  return modify(text, ['training', key], value, { formattingOptions: formatting });
}

/** Applies edits (all relative to the original text) to the text: for tests and previews. */
export function applyTextEdits(text: string, edits: readonly TextEditSpec[]): string {
  const sorted = [...edits].sort((a, b) => b.offset - a.offset);
  let result = text;
  for (const edit of sorted)
    result = result.slice(0, edit.offset) + edit.content + result.slice(edit.offset + edit.length);
  return result;
}

/** Forget-gate bias of one LSTM layer (and direction: `_reverse` names of a bidirectional layer) as the file states it. */
export interface ForgetBiasInfo {
  layer: number;
  direction: Direction;
  hiddenSize: number;
  /** Mean over the f block (rows H..2H) of bias_ih + bias_hh. */
  mean: number;
}

/** The numbers of a numeric array node, or undefined when it is not an array of finite numbers. */
function numbersOf(node: Node | undefined): number[] | undefined {
  if (!node || node.type !== 'array') return undefined;
  const values: number[] = [];
  for (const child of node.children ?? []) {
    if (child.type !== 'number' || typeof child.value !== 'number' || !Number.isFinite(child.value)) return undefined;
    values.push(child.value);
  }
  return values;
}

/** Whether the file is an LSTM: `cell` says so, or (no `cell`) weight_hh_l0 has 4·H rows of H columns. */
function isLstm(root: Node): boolean {
  const cell = findNodeAtLocation(root, ['cell']);
  if (cell) return cell.value === 'lstm';
  const whh = findNodeAtLocation(root, ['weights', 'weight_hh_l0']);
  const rows = whh?.type === 'array' ? (whh.children ?? []) : [];
  const cols = rows[0]?.type === 'array' ? (rows[0].children?.length ?? 0) : 0;
  return cols > 0 && rows.length === 4 * cols;
}

/**
 * The forget-gate bias of every LSTM layer whose weights are inline in the file (a `weights` path to a
 * safetensors file cannot be edited, so it yields nothing). Biases absent from the file count as zeros.
 */
export function forgetBiases(text: string, root = parseJsonc(text)): ForgetBiasInfo[] {
  if (!root || !isLstm(root)) return [];
  const weights = findNodeAtLocation(root, ['weights']);
  if (!weights || weights.type !== 'object') return [];
  const result: ForgetBiasInfo[] = [];
  for (let layer = 0; ; layer++) {
    if (findNodeAtLocation(weights, [`weight_hh_l${layer}`])?.type !== 'array') break;
    for (const direction of ['forward', 'reverse'] as const) {
      const info = forgetBiasOf(weights, layer, direction);
      if (info) result.push(info);
    }
  }
  return result;
}

/** The forget-gate bias of one layer and direction whose weight_hh is inline, else undefined. */
function forgetBiasOf(weights: Node, layer: number, direction: Direction): ForgetBiasInfo | undefined {
  const suffix = nameSuffix(direction);
  const whh = findNodeAtLocation(weights, [`weight_hh_l${layer}${suffix}`]);
  if (!whh || whh.type !== 'array') return undefined;
  const rows = whh.children?.length ?? 0;
  if (rows === 0 || rows % 4 !== 0) return undefined;
  const hiddenSize = rows / 4;
  const ih = findNodeAtLocation(weights, [`bias_ih_l${layer}${suffix}`]);
  const hh = findNodeAtLocation(weights, [`bias_hh_l${layer}${suffix}`]);
  const biasIh = ih ? numbersOf(ih) : new Array<number>(rows).fill(0);
  const biasHh = hh ? numbersOf(hh) : new Array<number>(rows).fill(0);
  if (!biasIh || !biasHh || biasIh.length !== rows || biasHh.length !== rows) return undefined;
  let sum = 0;
  for (let row = hiddenSize; row < 2 * hiddenSize; row++) sum += biasIh[row] + biasHh[row];
  return { layer, direction, hiddenSize, mean: sum / hiddenSize };
}

/** Below this mean forget-gate bias the fix is offered (Jozefowicz et al. 2015 recommend 1.0). */
export const forgetBiasThreshold = 0.5;

/** LSTM layers whose forget-gate bias averages below the threshold. */
export function lowForgetBiasLayers(text: string): ForgetBiasInfo[] {
  return forgetBiases(text).filter((info) => info.mean < forgetBiasThreshold);
}

/**
 * Edits that set the f block (rows H..2H) of bias_ih_l{layer} to 1.0 and of bias_hh_l{layer} to 0.0 (with the
 * `_reverse` suffix for the reverse direction), element by element so the rest of each array keeps its
 * formatting. A missing bias_ih is created (zeros elsewhere); a missing bias_hh already counts as zeros. When the
 * biases come from `init` instead, sets init.forget_bias to 1. Undefined when neither applies.
 */
export function forgetBiasEdits(
  text: string,
  layer: number,
  formatting: FormattingOptions = defaultFormatting,
  direction: Direction = 'forward',
): TextEditSpec[] | undefined {
  const root = parseJsonc(text);
  if (!root) return undefined;
  const suffix = nameSuffix(direction);
  const info = forgetBiases(text, root).find((entry) => entry.layer === layer && entry.direction === direction);
  if (!info) {
    // Biases generated by `init` (not inline): its forget_bias option sets them.
    const init = findNodeAtLocation(root, ['init']);
    const inline =
      findNodeAtLocation(root, ['weights', `bias_ih_l${layer}${suffix}`]) ??
      findNodeAtLocation(root, ['weights', `bias_hh_l${layer}${suffix}`]);
    if (init?.type !== 'object' || inline) return undefined;
    return modify(text, ['init', 'forget_bias'], 1, { formattingOptions: formatting });
  }
  const { hiddenSize } = info;
  const edits: TextEditSpec[] = [];
  const setBlock = (name: string, value: number): void => {
    const node = findNodeAtLocation(root, ['weights', name]);
    if (!node) {
      if (value === 0) return;
      const full = new Array<number>(4 * hiddenSize).fill(0);
      for (let row = hiddenSize; row < 2 * hiddenSize; row++) full[row] = value;
      edits.push(...modify(text, ['weights', name], full, { formattingOptions: formatting }));
      return;
    }
    const elements = node.children ?? [];
    for (let row = hiddenSize; row < 2 * hiddenSize; row++) {
      const element = elements[row];
      if (element.type === 'number' && element.value === value) continue;
      // Each edit replaces one existing element node, so all of them apply to the original text together.
      edits.push(...modify(text, ['weights', name, row], value, { formattingOptions: formatting }));
    }
  };
  setBlock(`bias_ih_l${layer}${suffix}`, 1);
  setBlock(`bias_hh_l${layer}${suffix}`, 0);
  return edits;
}

/** The key or value a wrong-input message suggests: `unknown key (did you mean "hidden_size"?)` → hidden_size. */
export function suggestedName(message: string): string | undefined {
  const match = /\(did you mean "([^"]+)"\?\)/.exec(message);
  return match ? match[1] : undefined;
}

/**
 * The edit that replaces a misspelt key or value (a JSON string on `span`) by the name its problem suggests;
 * undefined when the message suggests nothing or the span is not a string.
 */
export function didYouMeanEdit(
  text: string,
  span: { offset: number; length: number },
  message: string,
): { edit: TextEditSpec; from: string; to: string } | undefined {
  const to = suggestedName(message);
  if (to === undefined) return undefined;
  const current = text.slice(span.offset, span.offset + span.length);
  let from: unknown;
  try {
    from = JSON.parse(current);
  } catch {
    return undefined;
  }
  if (typeof from !== 'string' || from === to) return undefined;
  return { edit: { offset: span.offset, length: span.length, content: JSON.stringify(to) }, from, to };
}

/** Edits that set the top-level `module` (which recurrent module of a checkpoint), adding it when absent. */
export function moduleEdits(
  text: string,
  module: string,
  formatting: FormattingOptions = defaultFormatting,
): TextEditSpec[] {
  return modify(text, ['module'], module, { formattingOptions: formatting });
}
