import FledgeNN
import FledgeTensor

/// Several `Linear` layers that read the same input, as one product: their weights (and biases)
/// concatenated along the output axis into one buffer, with each layer's weight and bias made a
/// view of its rows. q, k and v fuse into one `[q + 2·kv, hidden]` product and gate and up into
/// one `[2·intermediate, hidden]`, so a decoding step makes 4 products per layer instead of 7
/// (each streams its weight from memory; fewer, longer streams and fewer thread hand-offs).
/// LoRA adapters do not break the fusion in inference: each layer adds its adapter's term to its slice.
///
/// Because the layers' tensors are views of the buffers, anything written into them in place
/// (an optimizer step, restored weights) is what the fused product reads. The layers' weights
/// must therefore never be replaced by other tensors.
struct FusedProjection {
    let layers: [Linear]
    let weight: Tensor
    let bias: Tensor?

    init(_ layers: [Linear]) {
        self.layers = layers
        weight = Tensor.concat(layers.map(\.weight), axis: 0)
        let biases = layers.compactMap(\.bias)
        bias = biases.count == layers.count ? Tensor.concat(biases, axis: 0) : nil
        precondition(bias != nil || biases.isEmpty, "fused layers must all have a bias or none")
        var start = 0
        for layer in layers {
            let rows = start..<start + layer.outFeatures
            layer.weight = weight.slice(axis: 0, rows)
            if let bias { layer.bias = bias.slice(axis: 0, rows) }
            start = rows.upperBound
        }
    }

    /// Whether to use the fused product: always without autograd (generation, scoring, reference
    /// log-probs; enabled adapters add their terms to their slices), and in a training pass only
    /// when no layer trains anything. In LoRA training the separate products are faster: the
    /// slices' backward would assemble a full-width gradient per fused product (3.5 % slower
    /// steps on the 135M shape, measured with `fledge bench train`).
    var isUsable: Bool {
        guard GradMode.isTraining else { return true }
        return !layers.contains { $0.weight.requiresGrad || ($0.bias?.requiresGrad ?? false) || ($0.adapter?.isEnabled ?? false) }
    }

    /// Each layer's output for `x`: its slice of one fused product plus its enabled adapter's
    /// term when `isUsable`, else the layer's own product.
    func callAsFunction(_ x: Tensor) -> [Tensor] {
        guard isUsable else { return layers.map { $0(x) } }
        var y = x.matmul(weight.transposed())
        if let bias { y = y + bias }
        var start = 0
        return layers.map { layer in
            defer { start += layer.outFeatures }
            return layer.addingAdapterDelta(to: y.slice(axis: -1, start..<start + layer.outFeatures), input: x)
        }
    }
}
