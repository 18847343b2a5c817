// Key paths of a model file's JSONC text -> text ranges and values (vscode-free, unit-tested in Node).
import { findNodeAtLocation, parseTree, type Node } from 'jsonc-parser';
import { findDeepNesting } from '../engine/model/jsonDepth';

/** A span of text: offset and length in UTF-16 code units, as `document.positionAt` takes them. */
export interface TextSpan {
  offset: number;
  length: number;
}

/**
 * Parses JSONC the way model files allow it (comments and trailing commas); undefined when unreadable, and
 * when it nests deeper than any model file (the parser recurses once per level; the engine reports the key).
 */
export function parseJsonc(text: string): Node | undefined {
  if (findDeepNesting(text)) return undefined;
  return parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
}

/**
 * The range a diagnostic about `path` should sit on: the property key for a key (the last segment is a
 * string), the element itself for an array index. When the path does not exist in the text, the
 * longest prefix that does (on its value when that is a string: `["weights", "weight_hh_l0"]` of a model file whose
 * weights come from a checkpoint sits on the checkpoint's path); the first character of the text when nothing
 * matches.
 */
export function spanOfPath(text: string, path: readonly (string | number)[], root = parseJsonc(text)): TextSpan {
  if (!root) return { offset: 0, length: Math.min(1, text.length) };
  for (let end = path.length; end > 0; end--) {
    const node = findNodeAtLocation(root, path.slice(0, end));
    if (!node) continue;
    // A deeper path under a string (a checkpoint named by `weights`, a data file): on that value.
    if (end < path.length && node.type === 'string') return { offset: node.offset, length: node.length };
    const keyNode = node.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
    const target = keyNode ?? node;
    return { offset: target.offset, length: target.length };
  }
  return { offset: root.offset, length: Math.min(1, root.length) };
}

/** The span of the property key at `path` only when that exact key exists. */
export function keySpanAt(
  text: string,
  path: readonly (string | number)[],
  root = parseJsonc(text),
): TextSpan | undefined {
  if (!root) return undefined;
  const node = findNodeAtLocation(root, path as (string | number)[]);
  const keyNode = node?.parent?.type === 'property' ? node.parent.children?.[0] : undefined;
  return keyNode ? { offset: keyNode.offset, length: keyNode.length } : undefined;
}

/** The span of the string value at `path` when `offset` lies on it (quotes included), else undefined. */
export function stringValueSpanAt(
  text: string,
  path: readonly (string | number)[],
  offset: number,
  root = parseJsonc(text),
): TextSpan | undefined {
  if (!root) return undefined;
  const node = findNodeAtLocation(root, path as (string | number)[]);
  if (node?.type !== 'string' || offset < node.offset || offset > node.offset + node.length) return undefined;
  return { offset: node.offset, length: node.length };
}

/** The number stored at `path`, or null when absent, null, or not a number. */
export function numberAt(text: string, path: readonly (string | number)[], root = parseJsonc(text)): number | null {
  if (!root) return null;
  const node = findNodeAtLocation(root, path as (string | number)[]);
  return node?.type === 'number' && typeof node.value === 'number' ? node.value : null;
}

/**
 * The property (key path) whose key contains `offset`, if any: used by the hover to know which key the
 * pointer is on. Returns the path of the property's value, e.g. ["weights", "weight_hh_l0"].
 */
export function keyPathAtOffset(
  text: string,
  offset: number,
  root = parseJsonc(text),
): (string | number)[] | undefined {
  if (!root) return undefined;
  let node: Node | undefined = root;
  const path: (string | number)[] = [];
  while (node && (node.type === 'object' || node.type === 'array')) {
    const children: Node[] = node.children ?? [];
    let next: Node | undefined;
    for (let index = 0; index < children.length; index++) {
      const child = children[index];
      if (offset < child.offset || offset > child.offset + child.length) continue;
      if (child.type === 'property') {
        const [key, value] = child.children ?? [];
        if (!key) return undefined;
        path.push(String(key.value));
        if (offset >= key.offset && offset <= key.offset + key.length) return path;
        next = value;
      } else {
        path.push(index);
        next = child;
      }
      break;
    }
    node = next;
  }
  return undefined;
}
