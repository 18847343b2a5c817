// The step of a checkpoint (shared/spec/gates-and-timeline.md section 2): the integer under step,
// global_step, iteration or epoch in a PyTorch checkpoint dict; else the last integer in the file name;
// else the file's place in name order.
import * as fs from 'fs';
import * as path from 'path';
import { formatOfFileName, readPytorch } from '../../engine/model/checkpoint';
import { compareNames, stepFromMeta, stepFromName } from '../../engine/timeline/timeline';
import type { StepSource } from '../../engine/timeline/types';

/** Checkpoints larger than this are not opened for their step (the file name decides). */
export const MAX_STEP_PROBE_BYTES = 64 * 1024 * 1024;

/** The step a checkpoint's own dict states, if it is a PyTorch file that can be read and says one. */
export async function stepFromCheckpoint(file: string): Promise<{ step: number; source: StepSource } | undefined> {
  if (formatOfFileName(file) !== 'pytorch') return undefined;
  try {
    const stat = await fs.promises.stat(file);
    if (!stat.isFile() || stat.size > MAX_STEP_PROBE_BYTES) return undefined;
    const buffer = await fs.promises.readFile(file);
    const contents = readPytorch(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength), {
      fileName: path.basename(file),
    });
    return stepFromMeta(contents.meta);
  } catch {
    // Unreadable or corrupt: the name decides; the analysis reports the problem.
    return undefined;
  }
}

/**
 * Steps of files from their names where the checkpoint did not state one: the last integer of the
 * name, else the 0-based place of the file in the name order of all `files`.
 */
export function stepFromNameOrOrder(file: string, files: string[]): { step: number; source: StepSource } {
  const byName = stepFromName(file);
  if (byName !== undefined) return { step: byName, source: 'name' };
  const order = [...files].sort((a, b) => compareNames(path.basename(a), path.basename(b)));
  return { step: order.indexOf(file), source: 'order' };
}
