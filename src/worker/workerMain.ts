// Worker entry: runs analyses off the caller's thread. Thin: parsing and numerics live in the engine.
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorkerMessage, ToWorkerMessage } from './protocol';
import { runAnalysis } from './runAnalysis';

const control: Int32Array | undefined = (workerData as { control?: Int32Array } | undefined)?.control;
const port = parentPort;

function send(message: FromWorkerMessage): void {
  port?.postMessage(message);
}

port?.on('message', (message: ToWorkerMessage) => {
  switch (message.type) {
    case 'analyze':
      runAnalysis(message.params, {
        isCancelled: () => control !== undefined && Atomics.load(control, 0) === message.id,
        progress: (fraction, phase, partial) => send({ type: 'progress', id: message.id, fraction, phase, partial }),
      }).then(
        (result) => send({ type: 'result', id: message.id, result }),
        (error: unknown) => {
          const cancelled = error instanceof Error && error.name === 'CancelledError';
          send({ type: 'error', id: message.id, cancelled, message: error instanceof Error ? error.message : String(error) });
        },
      );
      return;
    case 'cancel':
      // The client also sets the shared cancel slot, which the running analysis polls.
      return;
    default: {
      const unexpected: never = message;
      void unexpected;
    }
  }
});
