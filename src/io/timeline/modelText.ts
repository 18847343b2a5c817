// The model text a checkpoint of a timeline is analyzed with: the base model file with its `weights`
// replaced by the checkpoint, or the checkpoint as a model of its own.
import * as fs from 'fs';
import * as path from 'path';
import { applyEdits, modify } from 'jsonc-parser';

/** Largest model file read. */
export const MAX_MODEL_TEXT_BYTES = 256 * 1024 * 1024;

/** The base model of a timeline (`--model`). */
export interface BaseModel {
  /** Absolute path. */
  file: string;
  text: string;
}

/** What the worker analyzes for one checkpoint. */
export type CheckpointModel = { text: string; filePath: string } | { error: string };

/** The weights path of `checkpoint` as written in a model file at `modelFile` (relative, `/`-separated). */
export function weightsReference(modelFile: string, checkpoint: string): string {
  const rel = path.relative(path.dirname(modelFile), checkpoint);
  return rel.split(path.sep).join('/');
}

/**
 * The text to analyze for `checkpoint` (absolute): with a base model, its text with `weights` set to the
 * checkpoint (every other key applies unchanged, comments kept); without, a `.rnn.json` file's own text,
 * or `{"weights": FILE}` for any other checkpoint (analyzed as if a model file said only that).
 */
export async function checkpointModel(checkpoint: string, base: BaseModel | undefined): Promise<CheckpointModel> {
  const lower = checkpoint.toLowerCase();
  if (base) {
    if (lower.endsWith('.rnn.json'))
      return { error: `${path.basename(checkpoint)} is a model file: with --model, the checkpoints are weight files` };
    const edits = modify(base.text, ['weights'], weightsReference(base.file, checkpoint), {
      formattingOptions: { insertSpaces: true, tabSize: 2 },
    });
    return { text: applyEdits(base.text, edits), filePath: base.file };
  }
  if (lower.endsWith('.rnn.json') || lower.endsWith('.json')) {
    try {
      const stat = await fs.promises.stat(checkpoint);
      if (stat.size > MAX_MODEL_TEXT_BYTES) return { error: `larger than ${MAX_MODEL_TEXT_BYTES} bytes` };
      return { text: await fs.promises.readFile(checkpoint, 'utf8'), filePath: checkpoint };
    } catch (err) {
      return { error: `cannot read the model file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})` };
    }
  }
  return { text: JSON.stringify({ weights: path.basename(checkpoint) }), filePath: checkpoint };
}
