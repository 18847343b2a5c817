// Mocha root hook (loaded by .mocharc.json): before any unit test, rebuild dist/ when a source changed since the
// last build, so tests of the built CLI, worker and bundles never run stale code.
import { ensureBuilt } from './cli';

export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(180_000);
    ensureBuilt();
  },
};
