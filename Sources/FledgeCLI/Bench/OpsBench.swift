import ArgumentParser
import Foundation
import FledgeTensor

/// `fledge bench ops`: forward+backward time of each fused op on the shapes of
/// `Scripts/bench/torch_ops.py` (a SmolLM-135M-sized model on 8 sequences of 256 tokens),
/// and the peak extra memory of the selective log-softmax.
struct OpsBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ops", abstract: "Forward+backward milliseconds of the fused ops.")

    @Flag(help: "One JSON line per op.") var json = false
    @Option(help: "Seconds to time each op.") var seconds = 1.0

    static let (batch, seq, hidden, heads, kvHeads, headDim, mlp, vocab) = (8, 256, 576, 9, 3, 64, 1536, 49152)

    func run() {
        var generator = SeededGenerator(seed: 2)
        let random = { (shape: [Int], scale: Float) -> Tensor in Tensor.uniform(shape, in: -scale..<scale, using: &generator) }
        let (b, t, h) = (Self.batch, Self.seq, Self.hidden)

        // Selective log-softmax first, so its peak memory is measured against a fresh high-water mark.
        let states = random([b * t, h], 1), head = random([Self.vocab, h], 0.02)
        states.requiresGrad = true
        let targets = (0..<b * t).map { ($0 * 7919) % Self.vocab }
        let selective = {
            Tensor.selectiveLogSoftmax(hidden: states, weight: head, targets: targets).logProbs.sum().backward()
            states.zeroGrad()
        }
        let peak = peakResidentGrowth(selective)

        let x = random([b, t, h], 1), norm = Tensor.ones([h])
        x.requiresGrad = true
        norm.requiresGrad = true
        time("rms_norm", [x, norm]) { Tensor.rmsNorm(x, weight: norm, eps: 1e-6) }

        let q = random([b, t, Self.heads, Self.headDim], 1)
        q.requiresGrad = true
        let table = RotaryTable(headDim: Self.headDim, theta: 10_000)
        let positions = (0..<b * t).map { $0 % t }
        time("rope", [q]) { Tensor.rotaryEmbedding(q, positions: positions, table: table) }

        let gate = random([b, t, Self.mlp], 1), up = random([b, t, Self.mlp], 1)
        gate.requiresGrad = true
        up.requiresGrad = true
        time("swiglu", [gate, up]) { Tensor.swiGLU(gate: gate, up: up) }
        time("geglu", [gate, up]) { Tensor.geGLU(gate: gate, up: up) }

        let k = random([b, t, Self.kvHeads, Self.headDim], 1), v = random([b, t, Self.kvHeads, Self.headDim], 1)
        for tensor in [k, v] { tensor.requiresGrad = true }
        time("attention", [q, k, v]) { Tensor.scaledDotProductAttention(query: q, key: k, value: v) }

        let ms = secondsPerRun(atLeast: seconds, selective) * 1e3
        report(["op": "selective_log_softmax", "ms": rounded(ms), "peak_mib": rounded(Double(peak) / 1_048_576, 1)], json: json)
    }

    /// Times `op` forward plus a backward of a fixed random upstream gradient.
    private func time(_ name: String, _ leaves: [Tensor], _ op: () -> Tensor) {
        var generator = SeededGenerator(seed: 3)
        let shape = Tensor.withoutGrad { op().shape }
        let upstream = Tensor.uniform(shape, in: -1..<1, using: &generator)
        let ms = secondsPerRun(atLeast: seconds) {
            op().backward(gradient: upstream)
            for leaf in leaves { leaf.zeroGrad() }
        } * 1e3
        report(["op": name, "ms": rounded(ms)], json: json)
    }

    private func rounded(_ value: Double, _ digits: Int = 3) -> Double {
        let scale = Foundation.pow(10, Double(digits))
        return (value * scale).rounded() / scale
    }
}

/// How far one call of `body` raises the process's peak resident memory, in bytes.
func peakResidentGrowth(_ body: () -> Void) -> Int {
    let before = MemoryStats.peakResidentBytes
    body()
    return MemoryStats.peakResidentBytes - before
}
