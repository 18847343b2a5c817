// Entry of the integration suite inside the real extension host: runs mocha over out/test/integration/**/*.test.js,
// except the folders that hold their own index.js: each of those runs in an extension host of its own, on its own
// workspace (test/run-integration.js lists them; noModelWorkspace/*: a workspace without model files, where the
// extension must be activated by the test itself). Used by both launchers (test-electron and the offline code-server
// route) as extensionTestsPath.
import * as fs from 'fs';
import * as path from 'path';
import * as util from 'util';
import Mocha from 'mocha';

/** The line the launcher parses for the pass/fail counts; keep in sync with test/run-integration.js. */
export const resultMarker = 'RNN_GRADIENTS_INTEGRATION_RESULT';

/**
 * Prefix of every line mocha's reporter prints, so the offline launcher can tell the suite's output from
 * the workbench's own log lines (both arrive through the same channel); keep in sync with test/run-integration.js.
 */
export const reporterLinePrefix = '[rnn-gradients-test] ';

/** Sends mocha's reporter output through console.log, one prefixed line at a time. */
function prefixReporterOutput(): void {
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  base.consoleLog = (...args: unknown[]) => {
    for (const line of util.format(...args).split('\n')) console.log(reporterLinePrefix + line);
  };
}

/**
 * Compiled test files (*.test.js) under a folder, sorted so runs are repeatable; below the top folder, a folder with
 * its own index.js is another extension host's suite and is left out.
 */
export function findTestFiles(dir: string, top = true): string[] {
  if (!top && fs.existsSync(path.join(dir, 'index.js'))) return [];
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...findTestFiles(full, false));
    else if (entry.name.endsWith('.test.js')) files.push(full);
  }
  return files.sort();
}

/** Runs the suite; resolves when every test passed, rejects otherwise (the host turns that into exit code 1). */
export function run(): Promise<void> {
  // The time to the first diagnostic first (it measures the first model file opened after activation); the rest in
  // name order. (The long-run tests used to need a host no earlier test had left work in: a settings change re-analyzed
  // every model document still loaded, long closed ones included, and queued the panel's run behind minutes of work;
  // now only the files open in tabs are re-analyzed, the others when next shown.)
  const first = (file: string): number => (path.basename(file) === 'firstDiagnostic.test.js' ? 0 : 1);
  return runFiles(
    findTestFiles(__dirname).sort((a, b) => first(a) - first(b)),
    __dirname,
  );
}

/**
 * Runs mocha over these files in this extension host and prints the result line; resolves when every test passed,
 * rejects otherwise. Under RNN_GRADIENTS_INTEGRATION_GREP a suite none of whose tests match passes with nothing run
 * (the launcher fails a whole run that passed nothing).
 */
export function runFiles(files: string[], dir: string): Promise<void> {
  prefixReporterOutput();
  // RNN_GRADIENTS_INTEGRATION_GREP (inherited through code-server) runs only the matching tests while working on them.
  const grep = process.env.RNN_GRADIENTS_INTEGRATION_GREP;
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60000, reporter: 'spec', ...(grep ? { grep } : {}) });
  for (const file of files) mocha.addFile(file);
  return new Promise<void>((resolve, reject) => {
    if (files.length === 0) {
      console.log(`${resultMarker} ${JSON.stringify({ passed: 0, failed: 0, pending: 0, files: 0 })}`);
      reject(new Error(`no *.test.js files under ${dir}`));
      return;
    }
    try {
      const runner = mocha.run((failures) => {
        const stats = runner.stats ?? { passes: 0, failures, pending: 0 };
        const counts = { passed: stats.passes, failed: stats.failures, pending: stats.pending, files: files.length };
        console.log(`${resultMarker} ${JSON.stringify(counts)}`);
        if (failures > 0 || (counts.passed === 0 && !grep)) reject(new Error(`${failures} integration test(s) failed`));
        else resolve();
      });
    } catch (error) {
      console.error(error);
      reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}
