// Worker entry (placeholder until the engine lands).
import { parentPort } from 'node:worker_threads';
parentPort?.on('message', () => undefined);
