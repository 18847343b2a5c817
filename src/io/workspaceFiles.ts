// Node side: reads the files a model file names (weights, checkpoints, data arrays, ONNX external data),
// resolved relative to the model file and confined to the workspace folder (symlinks followed).
import * as fs from 'fs';
import * as path from 'path';
import { stampOf, type FileStamp } from './fileStamps';

/** Largest file read (bytes); larger files are refused before reading. */
export const MAX_WEIGHTS_FILE_BYTES = 512 * 1024 * 1024;

/** The bytes of a file, or why it cannot be read (a sentence naming the path as the model file gives it). */
export type FileLoad = Uint8Array | { error: string };

/** Reads a path relative to the model file. Never throws. */
export type FileLoader = (relativePath: string) => FileLoad;

/** True when `child` is `parent` or lies beneath it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function errorText(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err) return String(err.code);
  return err instanceof Error ? err.message : String(err);
}

/**
 * Makes a loader for the files a model file at `filePath` names: resolves each path against the model file's
 * folder, requires its real path (symlinks followed) to stay inside `rootDir`, and refuses missing,
 * unreadable, non-regular or oversized files. Messages name the path as given (`file "x.npy" does not exist`).
 * Every file it reads or finds missing is recorded in `stamps` when given (a result is reused only while they hold).
 */
export function makeFileLoader(
  filePath: string,
  rootDir: string,
  maxBytes = MAX_WEIGHTS_FILE_BYTES,
  stamps?: FileStamp[],
): FileLoader {
  return (relativePath: string) => {
    const shown = relativePath;
    if (relativePath.includes('\0')) return { error: `path "${shown}" is not a valid path` };
    const resolved = path.resolve(path.dirname(path.resolve(filePath)), relativePath);
    let realRoot: string;
    try {
      realRoot = fs.realpathSync(path.resolve(rootDir));
    } catch {
      return { error: `the workspace folder ${rootDir} cannot be resolved` };
    }
    if (!fs.existsSync(resolved)) {
      // Check the lexical path first so a missing file outside the workspace is still reported as outside.
      if (!isInside(realRoot, resolved) && !isInside(path.resolve(rootDir), resolved)) {
        return { error: `path "${shown}" is outside the workspace folder` };
      }
      stamps?.push(stampOf(resolved));
      return { error: `file "${shown}" does not exist` };
    }
    let real: string;
    try {
      real = fs.realpathSync(resolved);
    } catch (err) {
      return { error: `cannot resolve "${shown}" (${errorText(err)})` };
    }
    if (!isInside(realRoot, real)) return { error: `path "${shown}" is outside the workspace folder` };
    let stat: fs.Stats;
    try {
      stat = fs.statSync(real);
    } catch (err) {
      return { error: `cannot read "${shown}" (${errorText(err)})` };
    }
    if (!stat.isFile()) return { error: `"${shown}" is not a regular file` };
    if (stat.size > maxBytes) {
      return { error: `"${shown}" is ${stat.size} bytes, larger than the limit of ${maxBytes}` };
    }
    stamps?.push({ path: real, size: stat.size, mtimeMs: stat.mtimeMs });
    try {
      const buffer = fs.readFileSync(real);
      return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    } catch (err) {
      return { error: `cannot read "${shown}" (${errorText(err)})` };
    }
  };
}

/** The default model file of a checkpoint: `dir/model.pt` → `dir/model.rnn.json`. */
export function defaultModelFileOf(checkpoint: string): string {
  const ext = path.extname(checkpoint);
  return path.join(path.dirname(checkpoint), `${path.basename(checkpoint, ext)}.rnn.json`);
}

/** The weights path as the model file at `modelFile` writes it: relative, with `/` separators. */
export function relativeWeightsPath(modelFile: string, checkpoint: string): string {
  const rel = path.relative(path.dirname(path.resolve(modelFile)), path.resolve(checkpoint));
  return rel.split(path.sep).join('/');
}
