// Node side: parse a model file whose `weights` (and data arrays) may name files inside the workspace folder.
import { parseModel, type ParseResult } from '../engine/model/parse';
import { type FileLoader, makeFileLoader, MAX_WEIGHTS_FILE_BYTES } from './workspaceFiles';
import type { FileStamp } from './fileStamps';

export { MAX_WEIGHTS_FILE_BYTES } from './workspaceFiles';

/**
 * The `loadWeightsFile` callback for a model file at `filePath` (see makeFileLoader): messages start with
 * "weights: ". Never throws. Every file it reads or finds missing is recorded in `stamps` when given.
 */
export function makeWeightsLoader(
  filePath: string,
  rootDir: string,
  maxBytes = MAX_WEIGHTS_FILE_BYTES,
  stamps?: FileStamp[],
): FileLoader {
  const load = makeFileLoader(filePath, rootDir, maxBytes, stamps);
  return (relativePath) => {
    const r = load(relativePath);
    return r instanceof Uint8Array ? r : { error: `weights: ${r.error}` };
  };
}

/**
 * Parses a model file's text; files it names are loaded relative to `filePath`, inside `rootDir`. The files read
 * are recorded in `stamps` when given.
 */
export function loadModelFile(text: string, filePath: string, rootDir: string, stamps?: FileStamp[]): ParseResult {
  return parseModel(text, { loadWeightsFile: makeWeightsLoader(filePath, rootDir, MAX_WEIGHTS_FILE_BYTES, stamps) });
}
