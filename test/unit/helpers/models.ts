// Model files for tests: a seeded model built by `init` with synthetic data (`data.generate`), and parsing one.
import * as assert from 'assert';
import { parseModel } from '../../../src/engine/model/parse';
import type { Model } from '../../../src/engine/model/types';

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
