// GEMM helper thread (bundled to dist/gemm-helper.js): instantiates the shared GEMM module on the caller's
// shared WebAssembly memory and runs claimed row chunks until told to stop. See parallelProtocol.ts.
import * as os from 'node:os';
import { workerData } from 'node:worker_threads';
import { Ctrl, runChunks, type PanelWorker } from './parallelProtocol';
import { wasmApi, type WasmMemory, type WasmModule } from './wasmApi';

export interface GemmHelperData {
  gemmHelper: true;
  module: WasmModule;
  memory: WasmMemory;
  ctrl: SharedArrayBuffer;
  /** polls of the job counter before sleeping (keeps wake-up latency low for short jobs) */
  spin: number;
  /** Nice value (1..19) this helper thread runs at; 0 or absent: the creating thread's (inherited). */
  niceness?: number;
}

function main(data: GemmHelperData): void {
  if (data.niceness && data.niceness > 0) {
    try {
      os.setPriority(Math.min(19, Math.round(data.niceness)));
    } catch {
      // Not permitted or not supported: the inherited priority.
    }
  }
  const instance = new (wasmApi().Instance)(data.module, { env: { mem: data.memory } });
  const w = instance.exports as unknown as PanelWorker;
  const ctrl = new Int32Array(data.ctrl);
  Atomics.add(ctrl, Ctrl.Ready, 1);
  let seen = Atomics.load(ctrl, Ctrl.Gen);
  for (;;) {
    let gen = Atomics.load(ctrl, Ctrl.Gen);
    for (let i = 0; gen === seen && i < data.spin; i++) gen = Atomics.load(ctrl, Ctrl.Gen);
    while (gen === seen && Atomics.load(ctrl, Ctrl.Stop) === 0) {
      Atomics.wait(ctrl, Ctrl.Gen, seen);
      gen = Atomics.load(ctrl, Ctrl.Gen);
    }
    if (Atomics.load(ctrl, Ctrl.Stop) !== 0) return;
    seen = gen;
    runChunks(ctrl, gen, w);
  }
}

const data = workerData as GemmHelperData | undefined;
if (data && data.gemmHelper) main(data);
