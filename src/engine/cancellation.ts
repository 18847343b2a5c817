// Cancellation of a running analysis: one error class, thrown by the engine's progress checks and by a lag
// thread's job, and recognised with instanceof (every bundle that throws it also catches it).

/** Thrown when a run is cancelled. */
export class CancelledError extends Error {
  constructor(message = 'Analysis cancelled.') {
    super(message);
    this.name = 'CancelledError';
  }
}
