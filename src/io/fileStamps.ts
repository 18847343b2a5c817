// Stamps (size, mtime) of the files an analysis read, so a result is reused only while they are unchanged.
import * as fs from 'fs';

/** A file an analysis read (or looked for): a result computed from it is reused only while its stamp holds. */
export interface FileStamp {
  /** Absolute path (the real path when the file exists). */
  path: string;
  /** Size in bytes, -1 when the file did not exist. */
  size: number;
  /** Modification time in ms, -1 when the file did not exist. */
  mtimeMs: number;
}

/** The stamp of a file now (size and mtime -1 when it does not exist). */
export function stampOf(file: string): FileStamp {
  try {
    const stat = fs.statSync(file);
    return { path: file, size: stat.size, mtimeMs: stat.mtimeMs };
  } catch {
    return { path: file, size: -1, mtimeMs: -1 };
  }
}

/** Whether every file still has the stamp it had when it was read. */
export function stampsHold(stamps: readonly FileStamp[]): boolean {
  return stamps.every((s) => {
    const now = stampOf(s.path);
    return now.size === s.size && now.mtimeMs === s.mtimeMs;
  });
}
