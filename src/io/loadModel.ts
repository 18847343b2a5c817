// Node side: parse a model file whose `weights` may name a .safetensors file inside the workspace folder.
import * as fs from 'fs';
import * as path from 'path';
import { parseModel, type ParseResult } from '../engine/model/parse';

/** Largest weights file read (bytes); larger files are refused before reading. */
export const MAX_WEIGHTS_FILE_BYTES = 512 * 1024 * 1024;

/** True when `child` is `parent` or lies beneath it (both absolute, normalised). */
function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/**
 * Makes the `loadWeightsFile` callback for a model file at `filePath`: resolves the path against the
 * model file's folder, requires its real path (symlinks followed) to stay inside `rootDir`, and
 * refuses missing, unreadable, non-regular or oversized files. Never throws.
 */
export function makeWeightsLoader(
  filePath: string,
  rootDir: string,
  maxBytes = MAX_WEIGHTS_FILE_BYTES,
): (relativePath: string) => Uint8Array | { error: string } {
  return (relativePath: string) => {
    const shown = relativePath;
    if (relativePath.includes('\0')) return { error: `weights: path "${shown}" is not a valid path` };
    const resolved = path.resolve(path.dirname(path.resolve(filePath)), relativePath);
    let realRoot: string;
    try {
      realRoot = fs.realpathSync(path.resolve(rootDir));
    } catch {
      return { error: `weights: the workspace folder ${rootDir} cannot be resolved` };
    }
    if (!fs.existsSync(resolved)) {
      // Check the lexical path first so a missing file outside the workspace is still reported as outside.
      if (!isInside(realRoot, resolved) && !isInside(path.resolve(rootDir), resolved)) {
        return { error: `weights: path "${shown}" is outside the workspace folder` };
      }
      return { error: `weights: file "${shown}" does not exist` };
    }
    let real: string;
    try {
      real = fs.realpathSync(resolved);
    } catch (err) {
      return { error: `weights: cannot resolve "${shown}" (${errorText(err)})` };
    }
    if (!isInside(realRoot, real)) {
      return { error: `weights: path "${shown}" is outside the workspace folder` };
    }
    let stat: fs.Stats;
    try {
      stat = fs.statSync(real);
    } catch (err) {
      return { error: `weights: cannot read "${shown}" (${errorText(err)})` };
    }
    if (!stat.isFile()) return { error: `weights: "${shown}" is not a regular file` };
    if (stat.size > maxBytes) {
      return { error: `weights: "${shown}" is ${stat.size} bytes, larger than the limit of ${maxBytes}` };
    }
    try {
      const buffer = fs.readFileSync(real);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (err) {
      return { error: `weights: cannot read "${shown}" (${errorText(err)})` };
    }
  };
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) return String(err.code);
  return err instanceof Error ? err.message : String(err);
}

/** Parses a model file's text; a `weights` path is loaded relative to `filePath`, inside `rootDir`. */
export function loadModelFile(text: string, filePath: string, rootDir: string): ParseResult {
  return parseModel(text, { loadWeightsFile: makeWeightsLoader(filePath, rootDir) });
}
