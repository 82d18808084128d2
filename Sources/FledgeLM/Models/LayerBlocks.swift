import FledgeNN
import FledgeTensor

/// A layer's self-attention block (`self_attn`): the normalised residual stream
/// `[batch, length, hidden]` in, the attention output after `o_proj` out; with a cache, its keys
/// and values are layer `layer` of it.
protocol SelfAttentionBlock: Module {
    /// How many positions back a query sees (itself included), or nil for every earlier position.
    var slidingWindow: Int? { get }
    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor
}

/// A layer's MLP block (`mlp`): `[..., hidden]` → `[..., hidden]`.
protocol MLPBlock: Module {
    func callAsFunction(_ x: Tensor) -> Tensor
}
