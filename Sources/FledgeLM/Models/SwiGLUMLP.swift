import FledgeNN
import FledgeTensor

/// The gated MLP of Llama-shaped models (`mlp`): `down_proj(silu(gate_proj(x)) · up_proj(x))`.
/// In inference gate and up are one fused product.
final class SwiGLUMLP: Module, WeightFusing, @unchecked Sendable {
    let gateProj, upProj, downProj: Linear
    /// gate and up as one product (inference).
    let gateUp: FusedProjection

    /// An MLP of `config`'s shape with placeholder weights, with biases on its three projections
    /// when `bias`.
    init(config: ModelConfig, bias: Bool) {
        let (h, m) = (config.hiddenSize, config.intermediateSize)
        gateProj = Linear(inFeatures: h, outFeatures: m, bias: bias)
        upProj = Linear(inFeatures: h, outFeatures: m, bias: bias)
        downProj = Linear(inFeatures: m, outFeatures: h, bias: bias)
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
        return downProj(Tensor.swiGLU(gate: gateAndUp[0], up: gateAndUp[1]))
    }
}
