import FledgeNN
import FledgeTensor

/// Several `Linear` layers that read the same input, as one product: their weights (and biases)
/// concatenated along the output axis into one buffer, with each layer's weight and bias made a
/// view of its rows. q, k and v fuse into one `[q + 2·kv, hidden]` product and gate and up into
/// one `[2·intermediate, hidden]`, so a decoding step makes 4 products per layer instead of 7
/// (each streams its weight from memory; fewer, longer streams and fewer thread hand-offs).
/// LoRA adapters do not break the fusion in inference: each layer adds its adapter's term to its slice.
///
/// Layers loaded quantized fuse into one quantized matrix, whose row views the layers use.
///
/// Because the layers' tensors are views of the buffers, anything written into them in place
/// (an optimizer step, restored weights) is what the fused product reads. The layers' weights
/// must therefore never be replaced by other tensors.
final class FusedProjection: @unchecked Sendable {
    let layers: [Linear]
    /// The concatenated weights and biases once `fuse()` has run; nil before.
    private var buffers: (weight: Tensor, bias: Tensor?)?
    /// The layers' quantized weights stacked, once `fuse()` has run on layers loaded quantized;
    /// each layer's quantized weight is a view of its rows.
    private var quantizedWeight: QuantizedMatrix?

    /// The fusion of `layers`, which must all have a bias or none; nothing is fused until `fuse()`.
    init(_ layers: [Linear]) {
        precondition(layers.allSatisfy { $0.bias != nil } || layers.allSatisfy { $0.bias == nil },
                     "fused layers must all have a bias or none")
        self.layers = layers
    }

    /// Concatenates the layers' (loaded) weights and biases into one buffer each and makes every
    /// layer's weight and bias a view of its rows. Called once, after loading. Layers loaded
    /// block-quantized (quantized as they loaded, or a GGUF file's) fuse into one quantized matrix
    /// when all share a format;
    /// layers of mixed storage (a llama.cpp mix of Q4_K and Q6_K, or quantized and float) stay apart.
    func fuse() throws {
        precondition(buffers == nil, "the projections are already fused")
        let quantized = layers.compactMap(\.quantizedWeight)
        let weight: Tensor
        if quantized.isEmpty {
            weight = Tensor.concat(layers.map(\.weight), axis: 0)
        } else {
            guard quantized.count == layers.count, Set(quantized.map(\.format)).count == 1 else { return }
            let whole = try QuantizedMatrix(stacking: quantized, name: "fused projection")
            quantizedWeight = whole
            weight = Tensor.placeholder([whole.rows, whole.columns])
        }
        let biases = layers.compactMap(\.bias)
        let bias = biases.isEmpty ? nil : Tensor.concat(biases, axis: 0)
        var start = 0
        for layer in layers {
            let rows = start..<start + layer.outFeatures
            if let quantizedWeight { layer.useQuantized(quantizedWeight.rows(rows)) } else { layer.weight = weight.slice(axis: 0, rows) }
            if let bias { layer.bias = bias.slice(axis: 0, rows) }
            start = rows.upperBound
        }
        buffers = (weight, bias)
    }

    /// Whether to use the fused product: once fused, always without autograd (generation, scoring,
    /// reference log-probs; enabled adapters add their terms to their slices), and in a training
    /// pass only when no layer trains anything. In LoRA training the separate products are faster: the
    /// slices' backward would assemble a full-width gradient per fused product (3.5 % slower
    /// steps on the 135M shape, measured with `fledge bench train`).
    var isUsable: Bool {
        guard buffers != nil else { return false }
        guard GradMode.isTraining else { return true }
        return !layers.contains { $0.weight.requiresGrad || ($0.bias?.requiresGrad ?? false) || ($0.adapter?.isEnabled ?? false) }
    }

    /// Each layer's output for `x`: its slice of one fused product plus its enabled adapter's
    /// term when `isUsable`, else the layer's own product.
    func callAsFunction(_ x: Tensor) -> [Tensor] {
        guard isUsable, let buffers else { return layers.map { $0(x) } }
        let y: Tensor
        if let quantizedWeight {
            y = x.matmul(transposedQuantized: quantizedWeight, adding: buffers.bias)
        } else {
            y = x.matmul(buffers.weight.transposed(), adding: buffers.bias)
        }
        var start = 0
        return layers.map { layer in
            defer { start += layer.outFeatures }
            return layer.adapted(y.slice(axis: -1, start..<start + layer.outFeatures), input: x)
        }
    }
}
