"""PyTorch's float32 GEMM throughput on the shapes of `fledge bench gemm`.

Prints one JSON line per (layout, M, N, K), the same lines `fledge bench gemm --json` prints,
so the two can be compared side by side:

    python3 Scripts/bench/torch_gemm.py [--threads N] [--seconds S]

Layouts: nn = A[M,K]·B[K,N], nt = A[M,K]·B[N,K]ᵀ (a linear layer), tn = A[K,M]ᵀ·B[K,N]
(a weight gradient). `gflops` is per wall-clock second, `gflops_cpu` per CPU second of the process
(all threads; with --threads 1 it tells the kernels' speed on a shared machine).
"""
import argparse
import json
import time

import torch

SHAPES = [(1024, 1024, 1024), (2048, 576, 576), (2048, 1536, 576), (2048, 576, 1536), (512, 8192, 512), (8, 576, 576)]


def operands(layout, m, n, k):
    a = torch.randn(k, m).t() if layout == "tn" else torch.randn(m, k)
    b = torch.randn(n, k).t() if layout == "nt" else torch.randn(k, n)
    return a, b


def gflops(layout, m, n, k, seconds):
    a, b = operands(layout, m, n, k)
    out = torch.empty(m, n)
    for _ in range(3):
        torch.mm(a, b, out=out)
    runs, start, start_cpu = 0, time.perf_counter(), time.process_time()
    while True:
        torch.mm(a, b, out=out)
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and runs >= 3:
            flops = 2.0 * m * n * k * runs
            return flops / elapsed / 1e9, flops / (time.process_time() - start_cpu) / 1e9


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: all cores)")
    parser.add_argument("--seconds", type=float, default=0.5, help="time per shape")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for layout in ("nn", "nt", "tn"):
        for m, n, k in SHAPES:
            wall, cpu = gflops(layout, m, n, k, args.seconds)
            result = {"layout": layout, "m": m, "n": n, "k": k, "gflops": round(wall, 2), "gflops_cpu": round(cpu, 2)}
            print(json.dumps(result, separators=(",", ":")), flush=True)


if __name__ == "__main__":
    main()
