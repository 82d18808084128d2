import FledgeNN
import FledgeTensor

/// The gated MLP (`mlp`): `down_proj(act(gate_proj(x)) · up_proj(x))`, SwiGLU (act = silu) in
/// Llama-shaped models and GeGLU (act = the tanh approximation of GELU) in Gemma. In inference
/// gate and up are one fused product.
final class GatedMLP: MLPBlock, WeightFusing, @unchecked Sendable {
    /// The activation applied to the gate.
    enum Activation {
        /// `silu`: SwiGLU.
        case silu
        /// `gelu_pytorch_tanh`: GeGLU.
        case geluTanh
    }

    let gateProj, upProj, downProj: Linear
    /// gate and up as one product (inference).
    let gateUp: FusedProjection
    let activation: Activation

    /// An MLP of `config`'s shape with placeholder weights, with biases on its three projections
    /// when `bias`.
    init(config: ModelConfig, activation: Activation, bias: Bool) {
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

    func fuseWeights() { gateUp.fuse() }
    func quantizeFusedWeights(_ format: QuantizationFormat, nestedAbsmax: Bool, name: String) throws {
        try gateUp.quantize(format, nestedAbsmax: nestedAbsmax, name: "\(name).gate_proj/up_proj")
    }

    /// `[..., hidden]` → `[..., hidden]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let gateAndUp = gateUp(x)
        switch activation {
        case .silu: return downProj(Tensor.swiGLU(gate: gateAndUp[0], up: gateAndUp[1]))
        case .geluTanh: return downProj(Self.geluTanh(gateAndUp[0]) * gateAndUp[1])
        }
    }

    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, PyTorch's `gelu(approximate="tanh")`,
    /// from differentiable element-wise operations.
    static func geluTanh(_ x: Tensor) -> Tensor {
        let inner = (x + x * x.square() * 0.044715) * Float((2 / Double.pi).squareRoot())
        return x * (inner.tanh() + 1) * 0.5
    }
}

extension MLPBlock where Self == GatedMLP {
    /// The SwiGLU MLP of Llama-shaped models.
    static func swiGLU(config: ModelConfig, bias: Bool) -> GatedMLP { GatedMLP(config: config, activation: .silu, bias: bias) }

    /// The GeGLU MLP of Gemma, without biases.
    static func geGLU(config: ModelConfig) -> GatedMLP { GatedMLP(config: config, activation: .geluTanh, bias: false) }
}
