// Entry of an extension host of its own (test/run-integration.js opens a workspace without model files for it): runs
// the tests of this folder, whose extension host must not have activated the extension before they start.
import { findTestFiles, runFiles } from '../../index';

export function run(): Promise<void> {
  return runFiles(findTestFiles(__dirname), __dirname);
}
