// The timeline cache: one analyzed report per (checkpoint content, model text, referenced files' contents,
// settings, engine build), so that re-running `track` analyzes only new checkpoints.
//
// Where: $RNN_GRADIENTS_CACHE_DIR, else the user's cache folder ($XDG_CACHE_HOME or ~/.cache on Linux,
// ~/Library/Caches on macOS, %LOCALAPPDATA% on Windows) under rnn-gradients/timeline. Never next to the
// checkpoints: a training run's folder stays as the training script wrote it.
//
// Safe: an entry is a JSON file named by the SHA-256 of its key, holding the key itself; a file that does
// not parse, holds another key or lacks a report is ignored (and replaced). Entries are written to a
// temporary file and renamed, so a reader never sees half an entry.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseTree, type Node } from 'jsonc-parser';
import { findDeepNesting } from '../../engine/model/jsonDepth';
import type { Report } from '../../engine/report/types';
import { isInside } from '../workspaceFiles';

/** Bump when the cached record's shape changes. */
const CACHE_FORMAT = 1;
/** Referenced files above this size are keyed by size and modification time instead of content. */
const MAX_HASHED_BYTES = 1024 * 1024 * 1024;

/** The default cache folder. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RNN_GRADIENTS_CACHE_DIR) return path.resolve(env.RNN_GRADIENTS_CACHE_DIR);
  const home = os.homedir();
  let base: string;
  if (process.platform === 'win32') base = env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local');
  else if (process.platform === 'darwin') base = path.join(home, 'Library', 'Caches');
  else
    base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(home, '.cache');
  return path.join(base, 'rnn-gradients', 'timeline');
}

const engineIds = new Map<string, string>();

/** An id of the engine build: the hash of the worker bundle (any change of the engine changes it). */
export function engineId(workerPath: string): string {
  let id = engineIds.get(workerPath);
  if (id === undefined) {
    try {
      id = createHash('sha256').update(fs.readFileSync(workerPath)).digest('hex');
    } catch {
      id = 'unknown';
    }
    engineIds.set(workerPath, id);
  }
  return id;
}

function strings(node: Node | undefined, out: string[]): void {
  if (!node) return;
  if (node.type === 'string' && typeof node.value === 'string') out.push(node.value);
  for (const c of node.children ?? []) strings(c, out);
}

async function fileDigest(file: string): Promise<string> {
  const stat = await fs.promises.stat(file);
  if (stat.size > MAX_HASHED_BYTES) return `size ${stat.size} mtime ${stat.mtimeMs}`;
  const hash = createHash('sha256');
  await new Promise<void>((resolve, reject) => {
    const s = fs.createReadStream(file);
    s.on('data', (chunk) => hash.update(chunk));
    s.on('end', resolve);
    s.on('error', reject);
  });
  return hash.digest('hex');
}

/**
 * The cache key of analyzing `text` as the model file at `filePath`: the text, the content of every file
 * inside `rootDir` that a string of the text names (relative to the model file; `file#member` names the
 * file), the settings and the engine build.
 */
export async function cacheKey(
  text: string,
  filePath: string,
  rootDir: string,
  settings: unknown,
  engine: string,
): Promise<string> {
  const names: string[] = [];
  // Text nested deeper than a model file can be names no file (the engine refuses it); the parser would recurse.
  if (!findDeepNesting(text))
    strings(parseTree(text, [], { allowTrailingComma: true, disallowComments: false }), names);
  const dir = path.dirname(filePath);
  const files: [string, string][] = [];
  for (const name of new Set(names)) {
    if (name.length === 0 || name.length > 4096 || name.includes('\0')) continue;
    const hashAt = name.lastIndexOf('#');
    const rel = hashAt > 0 ? name.slice(0, hashAt) : name;
    const abs = path.resolve(dir, rel);
    if (!isInside(path.resolve(rootDir), abs)) continue;
    try {
      const stat = await fs.promises.stat(abs);
      if (!stat.isFile()) continue;
      files.push([rel, await fileDigest(abs)]);
    } catch {
      continue;
    }
  }
  files.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify({ format: CACHE_FORMAT, engine, text, dir: path.resolve(dir), files, settings });
}

interface CacheRecord {
  key: string;
  report: Report;
}

/** The cache folder's entries. Every failure to read or write is silent: the cache only saves time. */
export class TimelineCache {
  constructor(readonly dir: string) {}

  private fileOf(key: string): string {
    return path.join(this.dir, createHash('sha256').update(key).digest('hex') + '.json');
  }

  async get(key: string): Promise<Report | undefined> {
    try {
      const record = JSON.parse(await fs.promises.readFile(this.fileOf(key), 'utf8')) as Partial<CacheRecord>;
      if (record.key !== key || !record.report || typeof record.report !== 'object') return undefined;
      const r = record.report;
      if (r.report_version !== 1 || !Array.isArray(r.layers) || !r.clipping || !Array.isArray(r.findings))
        return undefined;
      return r;
    } catch {
      return undefined;
    }
  }

  async put(key: string, report: Report): Promise<void> {
    const file = this.fileOf(key);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await fs.promises.mkdir(this.dir, { recursive: true });
      await fs.promises.writeFile(tmp, JSON.stringify({ key, report } satisfies CacheRecord));
      await fs.promises.rename(tmp, file);
    } catch {
      await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    }
  }
}
