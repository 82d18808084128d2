import FledgeNN
import FledgeTensor

/// One layer of a decoder: the residual stream `[batch, length, hidden]` in, the same out. Each
/// family builds its layers from the shared blocks (`Attention`, `GatedMLP`, `RMSNorm`).
protocol DecoderLayer: Module {
    /// Its attention's sliding window (how many positions back a query sees), or nil for none.
    var slidingWindow: Int? { get }
    /// The layer's output for `x` in `pass`; with a cache, the layer's keys and values are layer
    /// `layer` of it.
    func callAsFunction(_ x: Tensor, _ pass: DecoderPass, layer: Int) -> Tensor
}

/// What every layer of one forward pass reads besides the residual stream.
struct DecoderPass {
    let input: ForwardInput
    /// The rotary table for the pass's positions.
    let rotary: RotaryTable
    /// The cache the pass appends its keys and values to, after its first `start` positions.
    let cache: KVCache?
    let start: Int
}
