// Shared-memory protocol between the calling thread and GEMM helper threads (see parallelGemm.ts).
//
// One job = one multiply. Its rows (MR-row panels) are cut into chunks; the caller and the helpers claim
// chunks from one atomic word and, per chunk, pack their panels of A and compute their rows of C, all in
// one shared WebAssembly memory. Nothing waits for a helper that has not claimed anything, so a slow or
// not-yet-started helper only costs speed, never correctness.
//
// The claim word holds (generation << 16 | next chunk). The caller opens a job by writing its parameters
// and then the word (gen, 0); it closes it, after every claimed chunk is done, with (gen, 0xffff). A claim
// is a compare-exchange on the exact word, so a helper that read a previous job's word can never claim.

export const CTRL_SLOTS = 32;
export const Ctrl = {
  Gen: 0, // job counter; helpers sleep on it
  Claim: 1,
  Done: 2, // chunks completed in the current job
  Stop: 3,
  Ready: 4, // helpers started
  M: 5,
  K: 6,
  KPad: 7,
  NPanels: 8,
  Ar: 9,
  Ap: 10,
  Bp: 11,
  Cp: 12,
  Ldc: 13,
  Acc: 14,
  NChunks: 15,
  ChunkPanels: 16,
  TotalPanels: 17,
  Rs: 18, // f32: row infos
  Cs: 19, // f32: column scales
  Norms: 20, // f32: ‖b‖, ‖φ‖
} as const;

export const CLOSED = 0xffff;
export const MAX_CHUNKS = 0xfff0;

/** The kernel module's exports (the f64 module ignores the f32-only trailing arguments). */
export interface PanelWorker {
  packA(
    src: number,
    dst: number,
    m: number,
    k: number,
    kPad: number,
    ipStart: number,
    ipEnd: number,
    rs: number,
    norms: number,
  ): void;
  gemm(
    ipStart: number,
    ipEnd: number,
    nPanels: number,
    kPad: number,
    ap: number,
    bp: number,
    cp: number,
    ldc: number,
    acc: number,
    rs: number,
    cs: number,
  ): void;
}

/** Claims and runs chunks of job `gen` until none are left. Returns the number of chunks this thread ran. */
export function runChunks(ctrl: Int32Array, gen: number, w: PanelWorker): number {
  const g = gen & 0x7fff;
  let ran = 0;
  for (;;) {
    const v = Atomics.load(ctrl, Ctrl.Claim);
    if (v >>> 16 !== g) return ran;
    const idx = v & 0xffff;
    if (idx >= Atomics.load(ctrl, Ctrl.NChunks)) return ran;
    if (Atomics.compareExchange(ctrl, Ctrl.Claim, v, v + 1) !== v) continue;
    // The job cannot close before this chunk is reported done, so its parameters are stable now.
    const cp = ctrl[Ctrl.ChunkPanels];
    const ip0 = idx * cp;
    const ip1 = Math.min(ip0 + cp, ctrl[Ctrl.TotalPanels]);
    w.packA(
      ctrl[Ctrl.Ar],
      ctrl[Ctrl.Ap],
      ctrl[Ctrl.M],
      ctrl[Ctrl.K],
      ctrl[Ctrl.KPad],
      ip0,
      ip1,
      ctrl[Ctrl.Rs],
      ctrl[Ctrl.Norms],
    );
    w.gemm(
      ip0,
      ip1,
      ctrl[Ctrl.NPanels],
      ctrl[Ctrl.KPad],
      ctrl[Ctrl.Ap],
      ctrl[Ctrl.Bp],
      ctrl[Ctrl.Cp],
      ctrl[Ctrl.Ldc],
      ctrl[Ctrl.Acc],
      ctrl[Ctrl.Rs],
      ctrl[Ctrl.Cs],
    );
    ran++;
    Atomics.add(ctrl, Ctrl.Done, 1);
    Atomics.notify(ctrl, Ctrl.Done);
  }
}

export function claimWord(gen: number, idx: number): number {
  return ((gen & 0x7fff) << 16) | idx;
}
