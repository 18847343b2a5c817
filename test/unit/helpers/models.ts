// Model files for tests: a seeded model built by `init` with synthetic data (`data.generate`), and parsing one.
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { analyzeModel, type AnalyzeOptions } from '../../../src/engine/analyze';
import type { Report } from '../../../src/engine/report/types';
import { loadModelFile } from '../../../src/io/loadModel';
import { parseModel } from '../../../src/engine/model/parse';
import type { Model } from '../../../src/engine/model/types';
import { writeSafetensors } from '../../../src/engine/model/safetensors';

/** JSON text of a model with PyTorch-default init (seed 3) and generated inputs (seed 4), 5 inputs. */
export function generatedModelText(cell: string, hidden: number, layers: number, steps: number, sequences = 2): string {
  return JSON.stringify({
    cell,
    input_size: 5,
    hidden_size: hidden,
    num_layers: layers,
    init: { scheme: 'pytorch', seed: 3 },
    data: { generate: { sequences, length: steps, seed: 4 } },
  });
}

/** The validated model of a model text; fails the test with the problems when it does not parse. */
export function parsedModel(text: string): Model {
  const parsed = parseModel(text);
  assert.ok(parsed.model, JSON.stringify(parsed.problems));
  return parsed.model;
}

/** Hidden size of the two-tensor rnn of tinyWeightsFile / tinyWeightsModel. */
export const TINY_HIDDEN = 2;

/** A safetensors file holding a tanh rnn's weight_ih_l0 (2×1) and weight_hh_l0 (2×2), no biases. */
export function tinyWeightsFile(): Uint8Array {
  const H = TINY_HIDDEN;
  return writeSafetensors([
    { name: 'weight_ih_l0', dtype: 'F32', shape: [H, 1], data: [0.5, -0.25] },
    { name: 'weight_hh_l0', dtype: 'F32', shape: [H, H], data: [0.5, 0.1, -0.1, 0.5] },
  ]);
}

/** Model file text taking its weights from `weights` (a tinyWeightsFile), with one sequence of 3 steps. */
export function tinyWeightsModel(weights: string): string {
  return JSON.stringify({ cell: 'rnn', weights, data: { inputs: [[[1], [0.5], [-1]]] } }, null, 2);
}

/**
 * The report of a model file on disk, analyzed in this process as the CLI would (weights and data files read
 * beside it, confined to its folder); fails the test with the problems when the file does not load.
 */
export function analyzeModelFile(file: string, options: Omit<AnalyzeOptions, 'file'> & { file?: string } = {}): Report {
  const parsed = loadModelFile(fs.readFileSync(file, 'utf8'), file, path.dirname(file));
  assert.ok(parsed.model, `${file} does not load: ${parsed.problems.map((p) => p.message).join('; ')}`);
  return analyzeModel(parsed.model, { file, ...options });
}
