// Reading a jsonc-parser tree with key paths and ranges: objects, scalars, enums and numeric tensors.
import type { Node } from 'jsonc-parser';
import type { KeyPath } from './types';
import { plural, type ProblemList, type SourceRange } from './problems';

/** A property of a JSON object: its key text, the key node (for ranges) and the value node. */
export interface Property {
  key: string;
  keyNode: Node;
  value: Node;
}

/** Range of a node's text. */
export function rangeOf(node: Node): SourceRange {
  return { offset: node.offset, length: node.length };
}

/** The JSON type name of a node, as messages print it. */
export function typeName(node: Node): string {
  if (node.type === 'number' && !Number.isFinite(node.value)) {
    return 'a non-finite number';
  }
  switch (node.type) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'a boolean';
    case 'null':
      return 'null';
    default:
      return node.type;
  }
}

/** Levenshtein distance, for "did you mean" hints on misspelt keys. */
function editDistance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length];
}

/** The known name closest to `key` when it is close enough to be a misspelling of it, else undefined. */
export function closestName(key: string, known: readonly string[]): string | undefined {
  let best = '';
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(1, Math.floor(best.length / 4)) ? best : undefined;
}

/** A " (did you mean …?)" hint when `key` is close to one of `known`, else "". */
export function didYouMean(key: string, known: readonly string[]): string {
  const best = closestName(key, known);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

/**
 * Reads an object node's properties. Reports a wrong type on the value, duplicate keys, and (when
 * `allowed` is given) unknown keys on the key's range. Returns undefined when the node is not an object.
 */
export function readObject(
  node: Node,
  path: KeyPath,
  problems: ProblemList,
  allowed?: readonly string[],
): Map<string, Property> | undefined {
  if (node.type !== 'object') {
    problems.error(path, rangeOf(node), `expected an object, got ${typeName(node)}`);
    return undefined;
  }
  const props = new Map<string, Property>();
  for (const child of node.children ?? []) {
    const keyNode = child.children?.[0];
    const value = child.children?.[1];
    if (!keyNode || !value) continue; // only after a syntax error, which is reported already
    const key = String(keyNode.value);
    if (props.has(key)) {
      problems.error([...path, key], rangeOf(keyNode), 'duplicate key');
      continue;
    }
    if (allowed && !allowed.includes(key)) {
      const meant = closestName(key, allowed);
      if (meant !== undefined && !node.children?.some((c) => c.children?.[0]?.value === meant)) {
        problems.markMisspelt([...path, meant]);
      }
      problems.error(
        [...path, key],
        rangeOf(keyNode),
        `unknown key${didYouMean(key, allowed)}; expected one of ${allowed.join(', ')}`,
      );
      continue;
    }
    props.set(key, { key, keyNode, value });
  }
  return props;
}

/** Reads a string value; reports a wrong type. */
export function readString(prop: Property, path: KeyPath, problems: ProblemList): string | undefined {
  if (prop.value.type !== 'string') {
    problems.error(path, rangeOf(prop.value), `expected a string, got ${typeName(prop.value)}`);
    return undefined;
  }
  return String(prop.value.value);
}

/** Reads one of a fixed set of strings; reports a wrong type or an unknown value. */
export function readEnum<T extends string>(
  prop: Property,
  path: KeyPath,
  values: readonly T[],
  problems: ProblemList,
): T | undefined {
  const list = values.map((v) => `"${v}"`).join(', ');
  if (prop.value.type !== 'string') {
    problems.error(path, rangeOf(prop.value), `expected one of ${list}, got ${typeName(prop.value)}`);
    return undefined;
  }
  const text = String(prop.value.value);
  if (!(values as readonly string[]).includes(text)) {
    problems.error(
      path,
      rangeOf(prop.value),
      `unknown value "${text}"${didYouMean(text, values)}; expected one of ${list}`,
    );
    return undefined;
  }
  return text as T;
}

/** Reads a finite number; reports a wrong type or a non-finite value. */
export function readNumber(prop: Property, path: KeyPath, problems: ProblemList): number | undefined {
  return numberOf(prop.value, path, problems);
}

/** A finite number from a node, or a problem on it. */
export function numberOf(node: Node, path: KeyPath, problems: ProblemList): number | undefined {
  if (node.type !== 'number') {
    problems.error(path, rangeOf(node), `expected a number, got ${typeName(node)}`);
    return undefined;
  }
  const value = node.value as number;
  if (!Number.isFinite(value)) {
    problems.error(path, rangeOf(node), `non-finite number (${value}); numbers must be finite`);
    return undefined;
  }
  return value;
}

/** Reads true or false; reports anything else. */
export function readBoolean(prop: Property, path: KeyPath, problems: ProblemList): boolean | undefined {
  if (prop.value.type !== 'boolean') {
    problems.error(path, rangeOf(prop.value), `expected true or false, got ${typeName(prop.value)}`);
    return undefined;
  }
  return prop.value.value === true;
}

/** Reads a positive integer no larger than `max`; reports anything else. */
export function readPositiveInt(
  prop: Property,
  path: KeyPath,
  problems: ProblemList,
  max = Number.MAX_SAFE_INTEGER,
): number | undefined {
  const value = readNumber(prop, path, problems);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1) {
    problems.error(path, rangeOf(prop.value), `expected a positive integer, got ${value}`);
    return undefined;
  }
  if (value > max) {
    problems.error(path, rangeOf(prop.value), `${value} is larger than the limit ${max}`);
    return undefined;
  }
  return value;
}

/** Reads a non-negative integer no larger than `max`; reports anything else. */
export function readNonNegativeInt(
  prop: Property,
  path: KeyPath,
  problems: ProblemList,
  max: number,
): number | undefined {
  const value = readNumber(prop, path, problems);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    problems.error(path, rangeOf(prop.value), `expected an integer from 0 to ${max}, got ${value}`);
    return undefined;
  }
  return value;
}

/** Reads a positive number or null (null → `null`); `undefined` means the value was wrong. */
export function readPositiveOrNull(prop: Property, path: KeyPath, problems: ProblemList): number | null | undefined {
  if (prop.value.type === 'null') return null;
  if (prop.value.type !== 'number') {
    problems.error(path, rangeOf(prop.value), `expected a positive number or null, got ${typeName(prop.value)}`);
    return undefined;
  }
  const value = readNumber(prop, path, problems);
  if (value === undefined) return undefined;
  if (value <= 0) {
    problems.error(path, rangeOf(prop.value), `expected a positive number or null, got ${value}`);
    return undefined;
  }
  return value;
}

/** A numeric tensor read from nested lists (or from a safetensors file): shape and row-major data. */
export interface NumericTensor {
  shape: number[];
  data: Float64Array;
}

/** Most element-level problems reported inside one tensor before it is summarised. */
const ELEMENT_PROBLEM_CAP = 5;

/**
 * Reads a list of numbers (rank 1) or a list of equal-length rows of numbers (rank 2). Reports a
 * wrong nesting on the list, ragged rows on the row, and non-numbers or non-finite numbers on the
 * element. Returns undefined when anything is wrong.
 */
export function readTensor(node: Node, path: KeyPath, rank: 1 | 2, problems: ProblemList): NumericTensor | undefined {
  const what = rank === 1 ? 'a list of numbers' : 'a matrix (a list of rows, each a list of numbers)';
  if (node.type !== 'array') {
    problems.error(path, rangeOf(node), `expected ${what}, got ${typeName(node)}`);
    return undefined;
  }
  const items = node.children ?? [];
  let reported = 0;
  let bad = 0;
  const elementProblem = (p: KeyPath, n: Node, message: string): void => {
    bad++;
    if (reported < ELEMENT_PROBLEM_CAP) {
      reported++;
      problems.error(p, rangeOf(n), message);
    }
  };
  if (rank === 1) {
    const data = new Float64Array(items.length);
    items.forEach((item, i) => {
      if (item.type === 'array') {
        elementProblem([...path, i], item, `expected a number, got a list (${what} expected here)`);
        return;
      }
      const v = elementValue(item);
      if (typeof v === 'string') elementProblem([...path, i], item, v);
      else data[i] = v;
    });
    return finish(bad, reported, path, node, problems, { shape: [items.length], data });
  }
  const first = items[0];
  if (first !== undefined && first.type !== 'array') {
    problems.error(path, rangeOf(node), `expected ${what}, but element 0 is ${typeName(first)}`);
    return undefined;
  }
  const cols = first?.children?.length ?? 0;
  const data = new Float64Array(items.length * cols);
  items.forEach((row, r) => {
    if (row.type !== 'array') {
      elementProblem([...path, r], row, `expected a row (a list of numbers), got ${typeName(row)}`);
      return;
    }
    const cells = row.children ?? [];
    if (cells.length !== cols) {
      elementProblem([...path, r], row, `ragged row: ${plural(cells.length, 'number')}, but row 0 has ${cols}`);
      return;
    }
    cells.forEach((cell, c) => {
      const v = elementValue(cell);
      if (typeof v === 'string') elementProblem([...path, r, c], cell, v);
      else data[r * cols + c] = v;
    });
  });
  return finish(bad, reported, path, node, problems, { shape: [items.length, cols], data });
}

/** A finite number, or the problem text for an element that is not one. */
function elementValue(node: Node): number | string {
  if (node.type !== 'number') return `expected a number, got ${typeName(node)}`;
  const v = node.value as number;
  return Number.isFinite(v) ? v : `non-finite number (${v}); numbers must be finite`;
}

function finish(
  bad: number,
  reported: number,
  path: KeyPath,
  node: Node,
  problems: ProblemList,
  tensor: NumericTensor,
): NumericTensor | undefined {
  if (bad > reported) {
    problems.error(path, rangeOf(node), `${bad - reported} more wrong element(s) not listed`);
  }
  return bad > 0 ? undefined : tensor;
}

/** Formats a shape the way messages print it: [4][5]. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'a scalar' : shape.map((n) => `[${n}]`).join('');
}
