import ArgumentParser
import Foundation
import FledgeTensor

/// `fledge bench gemm`: float32 matrix-multiplication throughput for the three layouts of
/// training (`nn` A·B, `nt` A·Bᵀ as in a linear layer, `tn` Aᵀ·B as in a weight gradient),
/// on the shapes of `Scripts/bench/torch_gemm.py`. `gflops` is per wall-clock second, `gflops_cpu`
/// per CPU second of the process (all threads): with one thread (`FLEDGE_NUM_THREADS=1`) the
/// latter tells the kernels' speed even when other processes share the cores.
///
/// `--dtype bf16` times the products as `bf16: true` runs them (bfloat16 `Autocast`): operands
/// rounded to bfloat16, float32 accumulation, the result rounded — with `vdpbf16ps` on a CPU with
/// AVX-512 BF16, by the exact-rounding emulation on the float32 kernels elsewhere (`implementation`).
struct GEMMBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "gemm", abstract: "GFLOP/s of matmul per layout and shape.")

    static let shapes = [(1024, 1024, 1024), (2048, 576, 576), (2048, 1536, 576), (2048, 576, 1536), (512, 8192, 512), (8, 576, 576)]

    @Flag(help: "One JSON line per layout and shape.") var json = false
    @Option(help: "Seconds to time each shape.") var seconds = 0.5
    @Option(help: "fp32, or bf16 for the products of bf16: true (bfloat16 autocast).") var dtype = "fp32"

    func validate() throws {
        guard ["fp32", "bf16"].contains(dtype) else { throw ValidationError("--dtype must be fp32 or bf16, got \(dtype)") }
    }

    func run() {
        var generator = SeededGenerator(seed: 1)
        let precision: ProductPrecision = dtype == "bf16" ? .bfloat16 : .float32
        let implementation = precision == .float32 ? "float32" : Autocast.bfloat16Implementation
        for layout in ["nn", "nt", "tn"] {
            for (m, n, k) in Self.shapes {
                let a = layout == "tn"
                    ? Tensor.uniform([k, m], in: -1..<1, using: &generator).transposed()
                    : Tensor.uniform([m, k], in: -1..<1, using: &generator)
                let b = layout == "nt"
                    ? Tensor.uniform([n, k], in: -1..<1, using: &generator).transposed()
                    : Tensor.uniform([k, n], in: -1..<1, using: &generator)
                let time = timePerRun(atLeast: seconds) { _ = Autocast.$precision.withValue(precision) { a.matmul(b) } }
                let gflops = { (seconds: Double) in (2 * Double(m) * Double(n) * Double(k) / seconds / 1e9 * 100).rounded() / 100 }
                report(["layout": layout, "m": m, "n": n, "k": k, "dtype": dtype, "implementation": implementation,
                        "gflops": gflops(time.wall), "gflops_cpu": gflops(time.cpu)], json: json)
            }
        }
    }
}
