// How deep a JSON(C) text nests, found without recursion, before any recursive parser or walk sees it: the
// parsers and tree walks of the engine, the extension and the timeline cache recurse once per level, so text
// nested tens of thousands deep would overflow the stack. Pure: used by the engine, the extension and the CLI.
import type { KeyPath } from './types';

/**
 * Deepest nesting of arrays and objects a model file may have. A model file needs 5 (root, data, inputs and
 * its sequences, steps and features); the margin leaves room for whatever later format versions add.
 */
export const MAX_JSON_DEPTH = 64;

/** Where a text first nests deeper than allowed: the keys that lead there, and the range to show. */
export interface DeepNesting {
  /** The object keys down to the deep value (array indices left out), at most the first four. */
  path: KeyPath;
  /** The last key's text range (quotes included), or the opening bracket when no key leads there. */
  range: { offset: number; length: number };
}

interface Frame {
  array: boolean;
  /** In an object: the current property's key and its range, once read. */
  key?: string;
  keyOffset?: number;
  keyLength?: number;
  /** In an object: whether the next string is a key (before the colon). */
  expectKey: boolean;
}

/** A JSON string literal's value, or its raw text when it does not decode (the scanner never throws). */
function decodeKey(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * The first place where `text` nests arrays or objects more than `maxDepth` levels deep, or undefined. Reads
 * strings (with escapes) and comments (`//`, `/* … *\/`) so brackets inside them do not count; tolerates broken
 * text (an unmatched closing bracket is ignored), since its only job is to protect recursive readers.
 */
export function findDeepNesting(text: string, maxDepth = MAX_JSON_DEPTH): DeepNesting | undefined {
  const stack: Frame[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // a string: up to the closing quote (or the line's end, where the parser will complain)
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 0x5c) j += 2;
        else if (d === 0x22 || d === 0x0a) break;
        else j++;
      }
      const top = stack[stack.length - 1];
      if (top && !top.array && top.expectKey) {
        top.key = decodeKey(text.slice(i + 1, Math.min(j, n)));
        top.keyOffset = i;
        top.keyLength = Math.min(j, n - 1) - i + 1;
      }
      i = j + 1;
      continue;
    }
    if (c === 0x2f && i + 1 < n) {
      const d = text.charCodeAt(i + 1);
      if (d === 0x2f) {
        const end = text.indexOf('\n', i + 2);
        i = end < 0 ? n : end + 1;
        continue;
      }
      if (d === 0x2a) {
        const end = text.indexOf('*/', i + 2);
        i = end < 0 ? n : end + 2;
        continue;
      }
    }
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return deepAt(stack, i);
      stack.push({ array: c === 0x5b, expectKey: c === 0x7b });
    } else if (c === 0x7d || c === 0x5d) {
      stack.pop();
    } else if (c === 0x2c || c === 0x3a) {
      const top = stack[stack.length - 1];
      if (top && !top.array) top.expectKey = c === 0x2c;
    }
    i++;
  }
  return undefined;
}

function deepAt(stack: Frame[], bracket: number): DeepNesting {
  const path: KeyPath = [];
  let last: Frame | undefined;
  for (const f of stack) {
    if (f.array) break; // the keys down to the first list: `data.inputs`, not `data.inputs[0][0]…`
    if (f.key === undefined || f.expectKey) break;
    path.push(f.key);
    last = f;
    if (path.length === 4) break;
  }
  const range =
    last?.keyOffset !== undefined && last.keyLength !== undefined
      ? { offset: last.keyOffset, length: last.keyLength }
      : { offset: bracket, length: 1 };
  return { path, range };
}
