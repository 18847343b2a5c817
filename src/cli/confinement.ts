// The folder the CLI confines a model's files to (the editor uses the workspace folder instead).
import * as fs from 'fs';
import * as path from 'path';
import { isInside } from '../io/workspaceFiles';

/** Real path when it exists (symlinks followed), else the resolved path. */
function real(p: string): string {
  const resolved = path.resolve(p);
  try {
    return fs.realpathSync(resolved);
  } catch {
    return resolved;
  }
}

/**
 * The confinement root of `rnn-gradients analyze FILE`: `--workspace DIR` when given; else the current directory
 * when the model file lies inside it (symlinks followed); else the model file's own folder. So
 * `cd project/other && rnn-gradients analyze ../model.rnn.json` reads weights beside the model, while a model
 * inside the current directory still cannot reach above it.
 */
export function confinementRoot(modelFile: string, cwd: string, workspace: string | null): string {
  if (workspace !== null) return path.resolve(cwd, workspace);
  const file = real(path.resolve(cwd, modelFile));
  const here = real(cwd);
  return isInside(here, file) ? here : path.dirname(file);
}
