import FledgeTensor

/// How the decoder's linear layers are stored as a model loads: block-quantized in `format`
/// (QLoRA's frozen base, or a smaller model to decode), each weight quantized as it is read.
/// The embeddings, norms and output head stay in float, as bitsandbytes leaves them. LoRA
/// adapters train in float32 on top, and with them switched off the model is the quantized base
/// (the reference policy).
public struct BaseQuantization: Sendable, Equatable {
    /// The block format of every decoder linear weight.
    public var format: QuantizationFormat
    /// Compress each weight's NF4/FP4 block statistics as bitsandbytes' `use_bnb_nested_quant`
    /// does, so the weights are bitsandbytes' nested values (nf4 and fp4 only).
    public var nestedAbsmax: Bool

    public init(_ format: QuantizationFormat, nestedAbsmax: Bool = false) {
        self.format = format
        self.nestedAbsmax = nestedAbsmax
    }

    /// One linear layer's `[out, in]` float weight quantized (with statistics of its own when
    /// nested); `name` labels errors: a row that is not a whole number of the format's blocks, a
    /// value that is not finite, nested statistics asked of a format other than nf4 and fp4.
    func quantize(_ weight: Tensor, name: String) throws -> QuantizedMatrix {
        try QuantizedMatrix(quantizing: weight, format: format, name: name, nestedAbsmaxRows: nestedAbsmax ? [0..<weight.shape[0]] : [])
    }
}
