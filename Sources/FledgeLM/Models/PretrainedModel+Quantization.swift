import FledgeNN
import FledgeTensor

extension PretrainedModel {
    /// The format of the quantized base (loaded with a `BaseQuantization`, or from a checkpoint
    /// that keeps its linear weights in blocks), or nil when the decoder's linear layers are float.
    public var baseQuantization: QuantizationFormat? {
        namedLinears.lazy.compactMap { $0.1.quantizedWeight?.format }.first
    }
}
