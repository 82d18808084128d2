import FledgeTensor

/// A trainable tensor under its checkpoint name, as optimizers, gradient clipping and checkpoints
/// see it.
///
/// `tensor` is a leaf with `requiresGrad`; its `grad` holds the accumulated gradient after
/// `backward()`. `decays` says whether decoupled weight decay applies: the HF Trainer exempts biases
/// and normalisation weights (every 1-D parameter), and Fledge does the same.
public struct Parameter: @unchecked Sendable {
    /// The checkpoint name, e.g. `model.layers.0.self_attn.q_proj.lora_A.weight`.
    public let name: String
    /// The trainable leaf tensor (contiguous, updated in place by optimizers).
    public let tensor: Tensor
    /// Whether weight decay applies to this parameter.
    public let decays: Bool

    /// A parameter; `decays` defaults to the HF Trainer's rule (no decay for biases and norm
    /// weights, i.e. for tensors of rank below 2).
    public init(name: String, tensor: Tensor, decays: Bool? = nil) {
        precondition(tensor.requiresGrad, "Parameter \(name) must be a trainable leaf (requiresGrad)")
        precondition(tensor.isContiguous, "Parameter \(name) must be contiguous to be updated in place")
        self.name = name
        self.tensor = tensor
        self.decays = decays ?? (tensor.rank >= 2 && !name.hasSuffix(".bias") && !name.contains("norm"))
    }
}
