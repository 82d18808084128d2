import FledgeNN
import FledgeTensor

extension PretrainedModel {
    /// Stores every linear layer of the decoder block-quantized in `format` (QLoRA's frozen
    /// base, or a smaller model to decode): fused projections as one matrix each, the others one
    /// by one; their float weights are freed. The embeddings, norms and output head stay in float,
    /// as bitsandbytes leaves them. LoRA adapters attached before or after train in float32 on
    /// top, and with them switched off the model is the quantized base (the reference policy).
    ///
    /// `nestedAbsmax` (NF4 and FP4) compresses each weight's block statistics as bitsandbytes'
    /// `use_bnb_nested_quant` does, so the weights are bitsandbytes' nested values.
    ///
    /// Throws a `QuantizationError` naming the first weight that cannot be quantized (a row that
    /// is not a whole number of the format's blocks, a value that is not finite).
    public func quantizeBase(_ format: QuantizationFormat, nestedAbsmax: Bool = false) throws {
        for (name, module) in decoder.namedModules {
            try (module as? WeightFusing)?.quantizeFusedWeights(format, nestedAbsmax: nestedAbsmax, name: "model.\(name)")
        }
        for (name, linear) in namedLinears where linear.quantizedWeight == nil {
            try linear.quantize(format, nestedAbsmax: nestedAbsmax, name: "\(name).weight")
        }
    }

    /// The format of the quantized base, or nil when the decoder's linear layers are float.
    public var baseQuantization: QuantizationFormat? {
        namedLinears.lazy.compactMap { $0.1.quantizedWeight?.format }.first
    }
}
