// Which files a `track` run analyzes: files, folders (every checkpoint file in them) and globs.
import * as fs from 'fs';
import * as path from 'path';

/** Extensions of files a timeline picks up in a folder (lower case). */
export const CHECKPOINT_FILE_EXTENSIONS = [
  '.pt',
  '.pth',
  '.bin',
  '.ckpt',
  '.safetensors',
  '.npz',
  '.onnx',
  '.keras',
  '.h5',
  '.hdf5',
];

/** Whether a folder's file belongs to a timeline: a checkpoint, or (without a base model) a model file. */
export function isTimelineFile(name: string, withBaseModel: boolean): boolean {
  const lower = name.toLowerCase();
  if (lower.startsWith('.')) return false;
  if (lower.endsWith('.rnn.json')) return !withBaseModel;
  return CHECKPOINT_FILE_EXTENSIONS.some((ext) => lower.endsWith(ext));
}

/** Whether an argument is a glob pattern (`*`, `?`, `[…]`) rather than a path. */
export function isGlob(arg: string): boolean {
  return /[*?[]/.test(arg);
}

/** A glob as a regular expression over `/`-separated paths: `*` and `?` stay within a segment, `**` crosses them. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = '^' + body.slice(1);
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The folder a glob's matches lie under: its leading segments without wildcards. */
function globBase(glob: string): string {
  const parts = glob.split('/');
  const fixed: string[] = [];
  for (const p of parts) {
    if (isGlob(p)) break;
    fixed.push(p);
  }
  if (fixed.length === parts.length) fixed.pop();
  const base = fixed.join('/');
  return base === '' ? (glob.startsWith('/') ? '/' : '.') : base;
}

const MAX_GLOB_DEPTH = 16;
const MAX_GLOB_VISITS = 100_000;

function walk(dir: string, depth: number, out: string[], budget: { left: number }): void {
  if (depth > MAX_GLOB_DEPTH || budget.left <= 0) return;
  let items: fs.Dirent[];
  try {
    items = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const d of items) {
    if (--budget.left <= 0) return;
    if (d.name.startsWith('.')) continue;
    const p = path.join(dir, d.name);
    if (d.isDirectory()) walk(p, depth + 1, out, budget);
    else if (d.isFile()) out.push(p);
  }
}

/** The outcome of expanding the arguments. */
export interface ExpandedInputs {
  /** Absolute paths, each once, in argument order (folders and globs sorted by name). */
  files: string[];
  /** One message per argument that yielded nothing or could not be read. */
  problems: string[];
}

/**
 * Expands CHECKPOINTS arguments (relative to `cwd`): a file as given, a folder's timeline files (not
 * recursive), a glob's matching files. `exclude` (absolute) is left out (the base model itself).
 */
export function expandInputs(args: string[], cwd: string, withBaseModel: boolean, exclude?: string): ExpandedInputs {
  const files: string[] = [];
  const seen = new Set<string>(exclude ? [path.resolve(exclude)] : []);
  const problems: string[] = [];
  const add = (p: string): void => {
    const abs = path.resolve(cwd, p);
    if (seen.has(abs)) return;
    seen.add(abs);
    files.push(abs);
  };
  for (const arg of args) {
    const abs = path.resolve(cwd, arg);
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(abs);
    } catch {
      stat = undefined;
    }
    if (stat?.isFile()) {
      add(abs);
    } else if (stat?.isDirectory()) {
      const names = fs
        .readdirSync(abs, { withFileTypes: true })
        .filter((d) => d.isFile() && isTimelineFile(d.name, withBaseModel))
        .map((d) => d.name)
        .sort();
      if (names.length === 0)
        problems.push(
          `${arg}: no checkpoint files in this folder (${CHECKPOINT_FILE_EXTENSIONS.join(' ')}${withBaseModel ? '' : ' .rnn.json'})`,
        );
      for (const n of names) add(path.join(abs, n));
    } else if (isGlob(arg)) {
      const pattern = arg.split(path.sep).join('/');
      const base = globBase(pattern);
      const re = globToRegExp(path.resolve(cwd, pattern).split(path.sep).join('/'));
      const found: string[] = [];
      walk(path.resolve(cwd, base), 0, found, { left: MAX_GLOB_VISITS });
      const matches = found.filter((f) => re.test(f.split(path.sep).join('/'))).sort();
      if (matches.length === 0) problems.push(`${arg}: no file matches this pattern`);
      for (const m of matches) add(m);
    } else {
      problems.push(`${arg}: no such file or folder`);
    }
  }
  return { files, problems };
}
