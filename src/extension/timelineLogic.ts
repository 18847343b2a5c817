// What the editor's timeline is made of (vscode-free, unit-tested): which Explorer selections are timelines, and
// which model file is the base of a folder of checkpoints.
import * as fs from 'fs';
import * as path from 'path';
import { findNodeAtLocation, parseTree } from 'jsonc-parser';
import { isTimelineFile } from '../io/timeline/inputs';
import { isInside } from '../io/workspaceFiles';

/** Whether a file name is a checkpoint or model file a timeline can take. */
export function isTimelineCandidate(name: string): boolean {
  return isTimelineFile(name, false);
}

/** The `weights` path of a model file's text, if it is a string. */
export function weightsPathOf(text: string): string | undefined {
  const root = parseTree(text, [], { allowTrailingComma: true, disallowComments: false });
  const node = root ? findNodeAtLocation(root, ['weights']) : undefined;
  return node?.type === 'string' && typeof node.value === 'string' ? node.value : undefined;
}

/**
 * The model files that can be the base of a timeline of `sources` (absolute folders or files): the `*.rnn.json`
 * files in the sources' folders and their parents whose `weights` names a file inside a source folder or one of
 * the source files. Sorted by path. `readText` reads a model file (the editor passes open documents' text).
 */
export function baseModelCandidates(
  sources: { path: string; folder: boolean }[],
  readText: (file: string) => string | undefined,
): string[] {
  const dirs = new Set<string>();
  for (const s of sources) {
    const dir = s.folder ? s.path : path.dirname(s.path);
    dirs.add(dir);
    dirs.add(path.dirname(dir));
  }
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = fs.readdirSync(dir).filter((n) => n.toLowerCase().endsWith('.rnn.json'));
    } catch {
      continue;
    }
    for (const n of names) {
      const file = path.join(dir, n);
      const text = readText(file);
      const weights = text !== undefined ? weightsPathOf(text) : undefined;
      if (weights === undefined) continue;
      const target = path.resolve(dir, weights);
      const hits = sources.some((s) =>
        s.folder ? path.relative(s.path, target) !== '' && isInside(s.path, target) : s.path === target,
      );
      if (hits && !sources.some((s) => s.path === file)) out.push(file);
    }
  }
  return [...new Set(out)].sort();
}

/** A title for a timeline: the folder or file names, and the base model's name. */
export function timelineTitle(sources: string[], base: string | undefined): string {
  const names = sources.map((s) => path.basename(s));
  const shown = names.length <= 3 ? names.join(', ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
  return base ? `${shown} with ${path.basename(base)}` : shown;
}
