import ArgumentParser
import Foundation
import FledgeTensor

/// `fledge bench …`: throughput benchmarks whose output lines match the PyTorch (and `tokenizers`)
/// scripts in `Scripts/bench/`, so the two can be run side by side and compared as ratios.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure kernels, optimizers, collectives, the tokenizer, data files, generation, training and algorithm steps (compare with the scripts in Scripts/bench/).",
        subcommands: [GEMMBench.self, OpsBench.self, TokenizerBench.self, GenerateBench.self, OptimizerBench.self, TrainBench.self,
                      GRPOBench.self, DPOBench.self, PPOBench.self, RewardBench.self, KTOBench.self, DistillBench.self,
                      AllReduceBench.self, DataBench.self])
}

/// Runs `body` repeatedly for at least `seconds` (and three runs) after two warm-up runs;
/// returns the mean seconds per run.
func secondsPerRun(atLeast seconds: Double, _ body: () -> Void) -> Double {
    timePerRun(atLeast: seconds, body).wall
}

/// Like `secondsPerRun`, and also the process's CPU seconds (user + system, all threads) per run,
/// which tell how much work a run is when other processes compete for the cores.
func timePerRun(atLeast seconds: Double, _ body: () -> Void) -> (wall: Double, cpu: Double) {
    body()
    body()
    var runs = 0
    let start = DispatchTime.now().uptimeNanoseconds, startCPU = processCPUSeconds()
    var elapsed = 0.0
    repeat {
        body()
        runs += 1
        elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    } while elapsed < seconds || runs < 3
    return (elapsed / Double(runs), (processCPUSeconds() - startCPU) / Double(runs))
}

/// The process's CPU seconds so far (user + system, all threads).
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return [usage.ru_utime, usage.ru_stime].reduce(0) { $0 + Double($1.tv_sec) + Double($1.tv_usec) / 1e6 }
}

/// Runs `body` once to warm up and then `runs` times; returns the fastest timed run's seconds.
func fastestRun(of runs: Int, _ body: () throws -> Void) rethrows -> Double {
    try body()
    var best = Double.infinity
    for _ in 0..<max(runs, 1) {
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
}

/// The highest total of the engine's own float buffers (tensors and kernel scratch) since the process
/// started, in MB with one decimal: what a step's tensors take at their peak, beside the resident-set
/// peak, which also counts memory the allocator keeps after it is freed, the runtime and the binary.
var peakTensorMegabytes: Double { (Double(MemoryStats.peakBytes) / 104_857.6).rounded() / 10 }

/// Prints one benchmark result: a compact JSON line, or an aligned text row.
func report(_ fields: KeyValuePairs<String, Any>, json: Bool) {
    if json {
        let body = fields.map { key, value -> String in
            let rendered = value is String ? "\"\(value)\"" : "\(value)"
            return "\"\(key)\":\(rendered)"
        }
        print("{" + body.joined(separator: ",") + "}")
    } else {
        print(fields.map { "\($0.key) \($0.value)" }.joined(separator: "  "))
    }
}
