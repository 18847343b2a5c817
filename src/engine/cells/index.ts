// Builds the cell of each layer of a model.
import type { Model } from '../model/types';
import type { Cell } from './cell';
import { plainMatMul, type MatMul } from '../matmul';
import { GruCell } from './gru';
import { LstmCell } from './lstm';
import { RnnCell } from './rnn';

/** One cell per layer, bottom first. */
export function buildCells(model: Model, mm: MatMul = plainMatMul): Cell[] {
  return model.layers.map((w): Cell => {
    switch (model.cell) {
      case 'rnn':
        return new RnnCell(w, model.nonlinearity, model.form, mm);
      case 'lstm':
        return new LstmCell(w, mm);
      case 'gru':
        return new GruCell(w, mm);
    }
  });
}
