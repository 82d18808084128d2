import FledgeTensor
import Synchronization

/// DoRA, weight-decomposed low-rank adaptation (Liu et al. 2024, arXiv 2402.09353), as PEFT 0.22
/// computes it (`peft.tuners.lora.dora.DoraLinearLayer`): the adapted weight is
/// `W' = m ⊙ (W + s·B·A) / ‖W + s·B·A‖`, each output row rescaled to the trained magnitude `m`,
/// with the row norms treated as constants in the backward pass (the paper's section 4.3). The
/// output is computed without forming `W'`:
///
///     y = base + (m/n − 1) ⊙ (x·Wᵀ) + (m/n) ⊙ s·(x·Aᵀ·Bᵀ),    n = ‖W + s·B·A‖ (rows)
///
/// where `base = x·Wᵀ + b` is the layer's own output. When dropout is active (training with
/// `lora_dropout` > 0), both adapter terms read the dropped-out input and `x·Wᵀ` is computed again
/// from it, as PEFT does.
extension LoRAAdapter {
    func doraOutput(base: Tensor, input x: Tensor, layer: Linear) -> Tensor {
        let magnitude = magnitude!
        let rowScale = magnitude / weightNorms.norms(of: self, weight: layer)
        let dropsInput = dropout > 0 && GradMode.isTraining
        let input = dropsInput ? x.dropout(probability: dropout, using: &dropoutGenerator) : x
        let unbiased: Tensor
        if dropsInput {
            unbiased = layer.product(input)
        } else if let bias = layer.bias {
            unbiased = base - bias
        } else {
            unbiased = base
        }
        return base + (rowScale - 1) * unbiased + rowScale * product(input)
    }
}

/// The row norms `‖W + s·B·A‖` of a DoRA adapter, kept with a copy of the factors they were computed
/// from: they cost a `[out, in]` product, which decoding would otherwise repeat for every token, and
/// comparing the factors (`r·(in + out)` values) tells for certain whether they are still valid
/// after an optimizer step or a load changed the factors in place.
final class DoRAWeightNormCache: Sendable {
    private struct Entry {
        let factors: [Float]
        let norms: Tensor
    }

    private let entry = Mutex<Entry?>(nil)

    /// The row norms of `layer`'s weight plus `adapter`'s `scale·B·A`, `[out]`, without gradient.
    func norms(of adapter: LoRAAdapter, weight layer: Linear) -> Tensor {
        let factors = adapter.a.toArray() + adapter.b.toArray()
        if let cached = entry.withLock({ $0 }), cached.factors == factors { return cached.norms }
        let norms = LoRAAdapter.rowNorms(Tensor.withoutGrad { layer.denseWeight + adapter.deltaWeight() })
        entry.withLock { $0 = Entry(factors: factors, norms: norms) }
        return norms
    }
}
