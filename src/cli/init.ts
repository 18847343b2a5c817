// `rnn-gradients init CHECKPOINT [-o NAME.rnn.json]`: writes a commented model file next to a checkpoint.
import * as fs from 'fs';
import * as path from 'path';
import { confinementRoot } from './confinement';
import { isWeightsFileName } from '../engine/model/checkpointSource';
import { defaultModule, modelFileTemplate, summarizeCheckpoint } from '../engine/model/checkpointTemplate';
import { defaultModelFileOf, makeFileLoader, relativeWeightsPath } from '../io/workspaceFiles';
import type { InitArgs } from './args';

/** Runs init; returns the exit code (0 written, 2 wrong input) after writing messages to stderr/stdout. */
export function runInit(args: InitArgs, out: (s: string) => void, err: (s: string) => void): number {
  const file = args.file;
  if (!isWeightsFileName(file)) {
    err(`${file}:1:1: not a checkpoint (expected .pt .pth .bin .ckpt .onnx .keras .h5 .hdf5 .npz or .safetensors)\n`);
    return 2;
  }
  const output = args.output ?? defaultModelFileOf(file);
  const abs = path.resolve(file);
  const loader = makeFileLoader(abs, confinementRoot(file, process.cwd(), null));
  const summary = summarizeCheckpoint(path.basename(abs), loader);
  if ('error' in summary) {
    err(`${file}:1:1: ${summary.error}\n`);
    return 2;
  }
  const chosen = defaultModule(summary, args.module ?? undefined);
  if (!chosen) {
    const names = summary.modules.map((m) => JSON.stringify(m.name)).join(', ');
    err(`${file}:1:1: no recurrent module ${JSON.stringify(args.module)} (candidates: ${names})\n`);
    return 2;
  }
  if (fs.existsSync(output) && !args.force) {
    err(`rnn-gradients: ${output} exists; use --force to overwrite it, or -o to write another file\n`);
    return 2;
  }
  const text = modelFileTemplate(summary, relativeWeightsPath(output, file), chosen);
  try {
    fs.writeFileSync(output, text, { flag: args.force ? 'w' : 'wx' });
  } catch (e) {
    err(`rnn-gradients: cannot write ${output} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})\n`);
    return 2;
  }
  const others = summary.modules.length > 1 ? ` (${summary.modules.length} candidates, listed in the file)` : '';
  out(`wrote ${output}: module ${JSON.stringify(chosen.name)}${others}\n`);
  out(`next: fill in its "data" section, then run: rnn-gradients analyze ${output}\n`);
  return 0;
}
