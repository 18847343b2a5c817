// Shared test helpers: the repository root, building dist/ when missing, and running the built CLI.
import * as fs from 'fs';
import * as path from 'path';
import { spawnSync } from 'child_process';

/** The repository root: the nearest folder above this file that holds package.json and esbuild.js. */
export const REPO_ROOT: string = (() => {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'esbuild.js'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no repository root above ${__dirname}`);
    dir = up;
  }
})();

export const CLI_JS = path.join(REPO_ROOT, 'dist', 'cli.js');
export const WORKER_JS = path.join(REPO_ROOT, 'dist', 'worker.js');

/** The bundles `node esbuild.js` writes that the unit tests load. */
export const BUNDLES = ['extension.js', 'worker.js', 'lag-worker.js', 'gemm-helper.js', 'cli.js', 'webview.js'];

/** Newest modification time (ms) of the files under `dir` (recursively), or of `dir` itself when it is a file. */
function newestMtime(dir: string): number {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of fs.readdirSync(dir)) newest = Math.max(newest, newestMtime(path.join(dir, entry)));
  return newest;
}

/**
 * Why dist/ under `root` needs rebuilding for the tests, or undefined when it is current: a bundle is missing, or a
 * source the bundles are built from (src/, webview/, esbuild.js, package.json, package-lock.json) is newer than the
 * oldest bundle.
 */
export function staleBuildReason(root: string = REPO_ROOT): string | undefined {
  let oldest = Infinity;
  for (const name of BUNDLES) {
    const file = path.join(root, 'dist', name);
    if (!fs.existsSync(file)) return `dist/${name} is missing`;
    oldest = Math.min(oldest, fs.statSync(file).mtimeMs);
  }
  for (const source of ['src', 'webview', 'esbuild.js', 'package.json', 'package-lock.json']) {
    if (newestMtime(path.join(root, source)) > oldest) return `${source} changed since the last build`;
  }
  return undefined;
}

/** Builds dist/ (`node esbuild.js`) when it is missing or older than its sources (see staleBuildReason). */
export function ensureBuilt(): void {
  const reason = staleBuildReason();
  if (reason === undefined) return;
  process.stderr.write(`[unit tests] building dist/: ${reason}\n`);
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0 || staleBuildReason() !== undefined) {
    throw new Error(`build failed (status ${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
}

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/cli.js ARGS` (cwd: the repository root unless given) and waits for it. */
export function runCli(args: string[], cwd: string = REPO_ROOT): CliRun {
  const r = spawnSync(process.execPath, [CLI_JS, ...args], {
    cwd,
    encoding: 'utf8',
    timeout: 50_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
