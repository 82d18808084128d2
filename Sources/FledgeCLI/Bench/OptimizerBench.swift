import ArgumentParser
import Foundation
import FledgeNN

/// `fledge bench optim`: milliseconds per optimizer step and bytes of optimizer state, for the
/// trainable parameters of a SmolLM2-135M-shaped model — all of them (`full`), or rank-16 LoRA
/// adapters on every attention and MLP projection (`lora`) — as `Scripts/bench/torch_optim.py`
/// measures PyTorch's optimizers.
struct OptimizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "optim", abstract: "Milliseconds per step and state bytes of the optimizers.")

    @Flag(help: "One JSON line per optimizer and parameter set.") var json = false
    @Option(help: "Seconds to time each optimizer.") var seconds = 2.0
    @Option(help: "Parameter sets to measure: lora, full or both.") var set = "both"
    @Option(help: "Measure only this optimizer (adamw, adamw_8bit, sgd_momentum or clip_grad_norm).") var only: String?

    static let (hidden, mlp, kvWidth, layers, vocab, rank) = (576, 1536, 192, 30, 49152, 16)

    /// (name, shape) of each trainable tensor of the set.
    static func shapes(_ set: String) -> [(String, [Int])] {
        let projections = [("q_proj", hidden, hidden), ("k_proj", kvWidth, hidden), ("v_proj", kvWidth, hidden),
                           ("o_proj", hidden, hidden), ("gate_proj", mlp, hidden), ("up_proj", mlp, hidden), ("down_proj", hidden, mlp)]
        var shapes: [(String, [Int])] = set == "full" ? [("embed_tokens.weight", [vocab, hidden]), ("norm.weight", [hidden])] : []
        for layer in 0..<layers {
            for (name, output, input) in projections {
                let prefix = "layers.\(layer).\(name)"
                if set == "full" {
                    shapes.append(("\(prefix).weight", [output, input]))
                } else {
                    shapes += [("\(prefix).lora_A.weight", [rank, input]), ("\(prefix).lora_B.weight", [output, rank])]
                }
            }
            if set == "full" { shapes += [("layers.\(layer).input_layernorm.weight", [hidden]), ("layers.\(layer).post_attention_layernorm.weight", [hidden])] }
        }
        return shapes
    }

    func validate() throws {
        guard ["lora", "full", "both"].contains(set) else { throw ValidationError("--set must be lora, full or both, not '\(set)'") }
    }

    func run() {
        for name in set == "both" ? ["lora", "full"] : [set] {
            var generator = SeededGenerator(seed: 5)
            let parameters = Self.shapes(name).map { name, shape in
                let tensor = Tensor.uniform(shape, in: -0.05..<0.05, using: &generator)
                tensor.requiresGrad = true
                tensor.grad = Tensor.uniform(shape, in: -1e-3..<1e-3, using: &generator)
                return Parameter(name: name, tensor: tensor)
            }
            let elements = parameters.reduce(0) { $0 + $1.tensor.count }
            let optimizers: [(String, () -> any Optimizer)] = [
                ("adamw", { AdamW(parameters: parameters, weightDecay: 0.01) }),
                ("adamw_8bit", { AdamW8bit(parameters: parameters, weightDecay: 0.01) }),
                ("sgd_momentum", { SGD(parameters: parameters, momentum: 0.9) }),
            ]
            for (label, make) in optimizers where only == nil || only == label {
                let optimizer = make()
                let time = timePerRun(atLeast: seconds) { optimizer.step(learningRate: 1e-5) }
                report(["set": name, "optimizer": label, "parameters": elements, "ms": milliseconds(time.wall),
                        "cpu_ms": milliseconds(time.cpu), "state_mib": (Double(optimizer.stateBytes) / 1_048_576 * 10).rounded() / 10],
                       json: json)
            }
            guard only == nil || only == "clip_grad_norm" else { continue }
            let time = timePerRun(atLeast: seconds) { GradientClipping.clipGlobalNorm(parameters, maxNorm: 1e9) }
            report(["set": name, "optimizer": "clip_grad_norm", "parameters": elements, "ms": milliseconds(time.wall),
                    "cpu_ms": milliseconds(time.cpu), "state_mib": 0.0], json: json)
        }
    }

    private func milliseconds(_ seconds: Double) -> Double { (seconds * 1e5).rounded() / 100 }
}
