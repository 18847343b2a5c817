#!/usr/bin/env python3
# PyTorch reference of the scale rows of `npm run bench`: the exact gradient of a batch, nn.LSTM / nn.RNN in
# float64 on the CPU with 2 threads, forward plus backward of the same loss as the engine's default
# (`sum`: Σ_b Σ_t Σ_k y_{b,t,k} / B), on random inputs of the same shape. Prints one JSON line: the best
# seconds of `repeats` runs (after a warm-up run) and the process's peak RSS.
#   /usr/bin/python3 tools/bench/torch_scale.py CELL H I B T [repeats]
import json
import resource
import sys
import time

import torch


def main() -> None:
    cell, H, I, B, T = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    repeats = int(sys.argv[6]) if len(sys.argv) > 6 else 3
    torch.set_num_threads(2)
    torch.manual_seed(0)
    net = (torch.nn.LSTM(I, H) if cell == "lstm" else torch.nn.RNN(I, H, nonlinearity="tanh")).double()
    x = torch.randn(T, B, I, dtype=torch.float64)

    def run() -> float:
        net.zero_grad()
        start = time.perf_counter()
        y, _ = net(x)
        loss = y.sum() / B
        loss.backward()
        return time.perf_counter() - start

    run()
    best = min(run() for _ in range(repeats))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"cell": cell, "H": H, "I": I, "B": B, "T": T, "seconds": best, "peak_rss_bytes": peak}))


if __name__ == "__main__":
    main()
