// Nonlinearities of the rnn cell and the logistic function, with derivatives.
import type { Nonlinearity } from './model/types';

/** Logistic sigmoid. */
export function sigm(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/** An elementwise nonlinearity σ with σ′ expressed through x and σ(x). */
export interface Activation {
  f: (x: number) => number;
  /** σ′ at x, given y = σ(x). */
  df: (x: number, y: number) => number;
  /** sup |σ′|: Pascanu's γ. */
  gamma: number;
}

export const ACTIVATIONS: Record<Nonlinearity, Activation> = {
  tanh: { f: Math.tanh, df: (_x, y) => 1 - y * y, gamma: 1 },
  relu: { f: (x) => (x > 0 ? x : 0), df: (x) => (x > 0 ? 1 : 0), gamma: 1 },
  sigmoid: { f: sigm, df: (_x, y) => y * (1 - y), gamma: 0.25 },
  linear: { f: (x) => x, df: () => 1, gamma: 1 },
};
