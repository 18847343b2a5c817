// What a checkpoint holds, in a few lines (`rnn-gradients init`, "Create model file from checkpoint"): its
// candidate recurrent modules with their sizes, and a commented model file that analyzes as written.
import { type CheckpointContents, type RecurrentModule, CheckpointError } from './checkpoint';
import { baseName, type LoadFile, type SourceFailure, readWeightsFile } from './checkpointSource';

/** One candidate module, in the terms of a model file. */
export interface ModuleSummary {
  name: string;
  cell: 'rnn' | 'lstm' | 'gru' | undefined;
  nonlinearity?: 'tanh' | 'relu';
  inputSize: number | undefined;
  hiddenSize: number | undefined;
  numLayers: number;
  bidirectional: boolean;
  projSize: number;
  gruReset?: 'after' | 'before';
  /** What the engine does not compute (non-empty: it cannot be analyzed). */
  unsupported: string[];
}

/** A checkpoint's candidates and the linear layers a `readout` prefix could name. */
export interface CheckpointSummary {
  file: string;
  format: string;
  modules: ModuleSummary[];
  /** Prefixes P with a 2-D `P.weight` [rows][cols] outside the modules (PyTorch, npz, safetensors). */
  linears: { prefix: string; rows: number; cols: number }[];
}

const CELL_OF_MODE = { RNN_TANH: 'rnn', RNN_RELU: 'rnn', LSTM: 'lstm', GRU: 'gru' } as const;
const CELL_OF_GATES: Record<number, 'rnn' | 'lstm' | 'gru'> = { 1: 'rnn', 4: 'lstm', 3: 'gru' };

/** A module's sizes from its tensors and declared attributes. */
export function summarizeModule(m: RecurrentModule): ModuleSummary {
  const ih = m.tensors.get('weight_ih_l0');
  const hh = m.tensors.get('weight_hh_l0');
  const hr = m.tensors.get('weight_hr_l0');
  let numLayers = 0;
  while (m.tensors.has(`weight_hh_l${numLayers}`)) numLayers++;
  const hiddenSize = hr?.shape.length === 2 ? hr.shape[1] : hh?.shape.length === 2 ? hh.shape[1] : undefined;
  const gates = hh && hiddenSize ? hh.shape[0] / hiddenSize : undefined;
  const mode = m.attributes.mode;
  const cell = mode ? CELL_OF_MODE[mode] : gates !== undefined ? CELL_OF_GATES[gates] : undefined;
  const nonlinearity = m.attributes.nonlinearity ?? (mode === 'RNN_RELU' ? 'relu' : undefined);
  return {
    name: m.name,
    cell,
    ...(cell === 'rnn' && nonlinearity ? { nonlinearity } : {}),
    inputSize: ih?.shape.length === 2 ? ih.shape[1] : m.attributes.input_size,
    hiddenSize: hiddenSize ?? m.attributes.hidden_size,
    numLayers: numLayers || (m.attributes.num_layers ?? 0),
    bidirectional: m.tensors.has('weight_hh_l0_reverse') || m.attributes.bidirectional === true,
    projSize: hr?.shape.length === 2 ? hr.shape[0] : (m.attributes.proj_size ?? 0),
    ...(cell === 'gru' && m.attributes.gru_reset ? { gruReset: m.attributes.gru_reset } : {}),
    unsupported: [...m.unsupported],
  };
}

function linearsOf(contents: CheckpointContents): CheckpointSummary['linears'] {
  if (contents.format === 'onnx' || contents.format === 'keras') return [];
  const out: CheckpointSummary['linears'] = [];
  for (const [name, t] of contents.tensors) {
    if (!name.endsWith('.weight') || t.shape.length !== 2) continue;
    out.push({ prefix: name.slice(0, -'.weight'.length), rows: t.shape[0], cols: t.shape[1] });
  }
  return out;
}

/**
 * Reads a checkpoint's candidates (and its linear layers) without selecting one. A file that cannot be read is
 * a SourceFailure naming it.
 */
export function summarizeCheckpoint(relative: string, loadFile: LoadFile): CheckpointSummary | SourceFailure {
  const read = readWeightsFile(relative, loadFile);
  if ('error' in read) return read;
  const { format, contents } = read;
  let modules: ModuleSummary[];
  try {
    modules = contents.modules.map(summarizeModule);
  } catch (err) {
    if (err instanceof CheckpointError) return { error: err.message, code: 'invalid-model', key: 'weights' };
    throw err;
  }
  if (modules.length === 0) {
    return {
      error: `${relative}: no recurrent module (no key ending in weight_hh_l0, no RNN/LSTM/GRU node or layer)`,
      code: 'invalid-model',
      key: 'weights',
    };
  }
  return { file: baseName(relative), format, modules, linears: linearsOf(contents) };
}

function describeModule(m: ModuleSummary): string {
  const parts = [
    m.cell ?? 'unknown cell',
    m.nonlinearity ? `nonlinearity ${m.nonlinearity}` : '',
    m.inputSize !== undefined ? `input_size ${m.inputSize}` : '',
    m.hiddenSize !== undefined ? `hidden_size ${m.hiddenSize}` : '',
    m.projSize > 0 ? `proj_size ${m.projSize}` : '',
    `${m.numLayers} layer${m.numLayers === 1 ? '' : 's'}`,
    m.bidirectional ? 'bidirectional' : '',
    m.gruReset === 'before' ? 'gru_reset before' : '',
  ];
  return parts.filter((p) => p !== '').join(', ');
}

/** The module init picks: the requested one, else the first the engine can analyze, else the first. */
export function defaultModule(summary: CheckpointSummary, requested?: string): ModuleSummary | undefined {
  if (requested !== undefined) return summary.modules.find((m) => m.name === requested);
  return summary.modules.find((m) => m.unsupported.length === 0) ?? summary.modules[0];
}

/**
 * A commented model file (JSONC) for a checkpoint: `weights`, the module it found (every candidate listed when
 * several), the sizes, and a `data` section that analyzes as written (synthetic sequences) with the file-based
 * alternative in comments. `weightsPath` is the checkpoint relative to the model file.
 */
export function modelFileTemplate(summary: CheckpointSummary, weightsPath: string, chosen: ModuleSummary): string {
  const q = (s: string): string => JSON.stringify(s);
  const lines: string[] = [];
  lines.push(`// Model file for ${summary.file}, written by "rnn-gradients init". Analyze it with`);
  lines.push(`//   rnn-gradients analyze THIS_FILE   (or "Analyze RNN gradients" in VS Code).`);
  lines.push('// Format: docs/model-format.md and docs/checkpoints.md (version 2).');
  lines.push('{');
  lines.push(`  "weights": ${q(weightsPath)},`);
  lines.push(
    `  // The recurrent module: ${chosen.name === '' ? 'the whole state_dict' : q(chosen.name)}: ${describeModule(chosen)}.`,
  );
  if (chosen.unsupported.length > 0) lines.push(`  // Not analyzable as is: ${chosen.unsupported.join('; ')}.`);
  const others = summary.modules.filter((m) => m !== chosen);
  if (others.length > 0) {
    lines.push(`  // ${summary.modules.length} candidate modules in this file; set "module" to the one to analyze:`);
    for (const m of summary.modules) lines.push(`  //   ${q(m.name)}: ${describeModule(m)}`);
  }
  lines.push(`  "module": ${q(chosen.name)},`);
  const width =
    chosen.hiddenSize === undefined
      ? undefined
      : (chosen.projSize || chosen.hiddenSize) * (chosen.bidirectional ? 2 : 1);
  const readouts = summary.linears.filter((l) => width !== undefined && l.cols === width);
  for (const l of readouts.slice(0, 3)) {
    lines.push(
      `  // A linear layer on the module's outputs could be the readout: ${q(l.prefix)} [${l.rows}][${l.cols}]`,
    );
    lines.push(`  // "readout": ${q(l.prefix)},`);
  }
  const inputs = chosen.inputSize !== undefined ? `[B][T][${chosen.inputSize}]` : '[B][T][I]';
  lines.push(
    '  // The data to analyze. As written: 8 synthetic sequences of 64 steps (standard normal inputs, seed 0)',
  );
  lines.push('  // and loss "sum" (the sum of the outputs), which shows how gradients flow through this module.');
  lines.push('  // For your own batch, replace "generate" by arrays in files inside the workspace, e.g.');
  lines.push(
    `  //   "inputs": "batch.npz#inputs",    // ${inputs} floats (np.savez), or "batch.pt#x" (torch.save of a dict), "x.npy"`,
  );
  lines.push(
    '  //   "targets": "batch.npz#targets",  // [B][T][D] for loss "mse", [B][T] class ids for "cross_entropy"',
  );
  lines.push('  //   "lengths": "batch.npz#lengths",  // optional [B]: real lengths of padded sequences');
  lines.push('  //   "layout": "time_first",          // if the arrays are [T][B][…] (PyTorch batch_first=False)');
  lines.push('  "data": { "generate": { "sequences": 8, "length": 64 } },');
  lines.push('  "loss": "sum",');
  lines.push('  // "training": { "clip_norm": 1.0, "batch_size": 32 },');
  lines.push('}');
  return lines.join('\n') + '\n';
}
