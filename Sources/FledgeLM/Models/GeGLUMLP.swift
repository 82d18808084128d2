import FledgeNN
import FledgeTensor

/// The gated MLP of Gemma (`mlp`): `down_proj(gelu_tanh(gate_proj(x)) · up_proj(x))`, with the
/// tanh approximation of GELU (`gelu_pytorch_tanh`). In inference gate and up are one fused product.
final class GeGLUMLP: Module, WeightFusing, @unchecked Sendable {
    let gateProj, upProj, downProj: Linear
    /// gate and up as one product (inference).
    let gateUp: FusedProjection

    /// An MLP of `config`'s shape with placeholder weights and no biases.
    init(config: ModelConfig) {
        let (h, m) = (config.hiddenSize, config.intermediateSize)
        gateProj = Linear(inFeatures: h, outFeatures: m, bias: false)
        upProj = Linear(inFeatures: h, outFeatures: m, bias: false)
        downProj = Linear(inFeatures: m, outFeatures: h, bias: false)
        gateUp = FusedProjection([gateProj, upProj])
    }

    func members(_ visitor: ModuleVisitor) {
        visitor.child("gate_proj", gateProj)
        visitor.child("up_proj", upProj)
        visitor.child("down_proj", downProj)
    }

    func fuseWeights() { gateUp.fuse() }

    /// `[..., hidden]` → `[..., hidden]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let gateAndUp = gateUp(x)
        return downProj(Self.geluTanh(gateAndUp[0]) * gateAndUp[1])
    }

    /// `0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))`, PyTorch's `gelu(approximate="tanh")`,
    /// from differentiable element-wise operations.
    static func geluTanh(_ x: Tensor) -> Tensor {
        let inner = (x + x * x.square() * 0.044715) * Float((2 / Double.pi).squareRoot())
        return x * (inner.tanh() + 1) * 0.5
    }
}
