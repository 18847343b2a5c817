// Builds the cell of each layer and direction of a model.
import type { Model } from '../model/types';
import type { Cell } from './cell';
import { plainMatMul, type MatMul } from '../matmul';
import { GruCell } from './gru';
import { GruBeforeCell } from './gruBefore';
import { LstmCell } from './lstm';
import { RnnCell } from './rnn';

/** One cell per layer and direction, in model.layers order (l0, l0 reverse, l1, …). */
export function buildCells(model: Model, mm: MatMul = plainMatMul): Cell[] {
  return model.layers.map((w): Cell => {
    switch (model.cell) {
      case 'rnn':
        return new RnnCell(w, model.nonlinearity, model.form, mm);
      case 'lstm':
        return new LstmCell(w, mm);
      case 'gru':
        return model.gruReset === 'before' ? new GruBeforeCell(w, mm) : new GruCell(w, mm);
    }
  });
}
