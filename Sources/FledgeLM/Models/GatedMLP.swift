import FledgeNN
import FledgeTensor

/// The gated MLP (`mlp`): `down_proj(act(gate_proj(x)) · up_proj(x))`, SwiGLU (act = silu) in
/// Llama-shaped models and GeGLU (act = the tanh approximation of GELU) in Gemma, each one fused
/// kernel. In inference gate and up are one fused product.
final class GatedMLP: MLPBlock, WeightFusing, @unchecked Sendable {
    let gateProj, upProj, downProj: Linear
    /// gate and up as one product (inference).
    let gateUp: FusedProjection
    let activation: GateActivation

    /// An MLP of `config`'s shape with placeholder weights, with biases on its three projections
    /// when `bias`.
    init(config: ModelConfig, activation: GateActivation, bias: Bool) {
        let (h, m) = (config.hiddenSize, config.intermediateSize)
        gateProj = Linear(inFeatures: h, outFeatures: m, bias: bias)
        upProj = Linear(inFeatures: h, outFeatures: m, bias: bias)
        downProj = Linear(inFeatures: m, outFeatures: h, bias: bias)
        gateUp = FusedProjection([gateProj, upProj])
        self.activation = activation
    }

    func members(_ visitor: ModuleVisitor) {
        visitor.child("gate_proj", gateProj)
        visitor.child("up_proj", upProj)
        visitor.child("down_proj", downProj)
    }

    func fuseWeights() throws { try gateUp.fuse() }

    /// `[..., hidden]` → `[..., hidden]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let gateAndUp = gateUp(x)
        return downProj(gated(gateAndUp[0], up: gateAndUp[1]))
    }

    /// `act(gate) · up`: the fused unit, or under bfloat16 autocast what PyTorch computes there, the
    /// activation rounded to bfloat16 and then the product (with SiLU, as two ops whose backward
    /// rounds likewise; GELU-tanh's fused unit is rounded once).
    private func gated(_ gate: Tensor, up: Tensor) -> Tensor {
        if Autocast.isBFloat16 && activation == .silu { return (gate.silu().roundedToBFloat16() * up).roundedToBFloat16() }
        return Tensor.gatedLinearUnit(gate: gate, up: up, activation: activation).roundedUnderAutocast()
    }
}

extension MLPBlock where Self == GatedMLP {
    /// The SwiGLU MLP of Llama-shaped models.
    static func swiGLU(config: ModelConfig, bias: Bool) -> GatedMLP { GatedMLP(config: config, activation: .silu, bias: bias) }

    /// The GeGLU MLP of Gemma, without biases.
    static func geGLU(config: ModelConfig) -> GatedMLP { GatedMLP(config: config, activation: .geluTanh, bias: false) }
}
