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

/** Builds dist/ (npm run build) unless dist/cli.js and dist/worker.js exist. */
export function ensureBuilt(): void {
  if (fs.existsSync(CLI_JS) && fs.existsSync(WORKER_JS)) return;
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'esbuild.js')], { cwd: REPO_ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !fs.existsSync(CLI_JS) || !fs.existsSync(WORKER_JS)) {
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
