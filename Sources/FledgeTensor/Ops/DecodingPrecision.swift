/// Whether products with a quantized base round their activations to 8 bits on the current task
/// (llama.cpp's integer decoding; see `Tensor.withQuantizedActivations`).
enum DecodingPrecision {
    @TaskLocal static var quantizesActivations = false
}

extension Tensor {
    /// Runs `body` with the integer decoding products of llama.cpp for few-row products
    /// (at most 8 rows, as decoding steps are) with a Q8_0 or Q4_0 weight: the activation rows
    /// are quantized once per product to Q8_0 blocks and dotted with the weight blocks in
    /// integers (`Int8DecodingProduct`). Faster than the exact float product, and different from
    /// it by the rounding of the activations to 8 bits per 32-value block, as llama.cpp's
    /// decoding is; generation runs in it (unless `SamplingOptions.quantizedActivations` is
    /// false), scoring and training do not. Other products (float weights, more rows, other
    /// formats) are unchanged.
    public static func withQuantizedActivations<R>(_ body: () throws -> R) rethrows -> R {
        try DecodingPrecision.$quantizesActivations.withValue(true, operation: body)
    }
}
