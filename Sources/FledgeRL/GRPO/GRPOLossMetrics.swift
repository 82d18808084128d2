import FledgeTensor

/// The metrics TRL's `_compute_loss` logs for a micro-batch, under TRL's names.
///
/// A per-token quantity is averaged over the masked tokens; a per-sequence one (sequence-level
/// ratios, VESPO's weights) over the rows, masked rows included, as TRL's `global_masked_mean` does.
struct GRPOLossMetrics {
    let layout: TokenRows
    let advantages: [Float]
    private let mask: [Float]

    init(layout: TokenRows, advantages: [Float]) {
        self.layout = layout
        self.advantages = advantages
        mask = layout.mask.toArray()
    }

    func metrics(settings: GRPOLossSettings, term: GRPOPolicyTerm, kl: Tensor?, entropies: [Float]?) -> [String: Double] {
        var metrics: [String: Double] = [:]
        if let kl { metrics["kl"] = mean(kl.toArray(), perSequence: false) }
        if let entropies { metrics["entropy"] = Double(entropies.reduce(0, +)) / Double(Swift.max(entropies.count, 1)) }
        let ratio = term.ratio.toArray()
        let perSequence = settings.importanceSamplingLevel == .sequence
        let eLow = Float(1 - settings.epsilonLow), eHigh = Float(1 + settings.epsilonHigh)
        switch settings.lossType {
        case .grpo, .bnpo, .drGRPO, .dapo, .luspo:
            let low = flags(ratio, perSequence) { r, a in r < eLow && a < 0 }
            let high = flags(ratio, perSequence) { r, a in r > eHigh && a > 0 }
            let region = zip(low, high).map { Swift.max($0, $1) }
            metrics["clip_ratio/low_mean"] = mean(low, perSequence: perSequence)
            metrics["clip_ratio/high_mean"] = mean(high, perSequence: perSequence)
            metrics["clip_ratio/region_mean"] = mean(region, perSequence: perSequence)
            metrics["clip_ratio/low_min"] = rowMeans(low, perSequence: perSequence).min() ?? .nan
            metrics["clip_ratio/high_max"] = rowMeans(high, perSequence: perSequence).max() ?? .nan
        case .cispo:
            let cap = Float(settings.epsilonHigh)
            metrics["cispo_clip_ratio"] = mean(flags(ratio, perSequence) { r, a in r > cap && a > 0 }, perSequence: perSequence)
        case .vespo:
            metrics["vespo/phi_seq_mean"] = mean(term.vespoWeights ?? [], perSequence: true)
        case .sapo:
            break
        }
        return metrics
    }

    /// 1 where `condition(ratio, advantage)` holds, per grid cell or per row.
    private func flags(_ ratio: [Float], _ perSequence: Bool, _ condition: (Float, Float) -> Bool) -> [Float] {
        ratio.indices.map { index in
            let row = perSequence ? index : index / layout.width
            return condition(ratio[index], advantages[row]) ? 1 : 0
        }
    }

    /// The mean over the masked tokens of a `[rows, width]` grid, or over the rows of a per-row list.
    private func mean(_ values: [Float], perSequence: Bool) -> Double {
        if perSequence { return Double(values.reduce(0, +)) / Double(Swift.max(values.count, 1)) }
        let total = zip(values, mask).reduce(Double(0)) { $0 + Double($1.0 * $1.1) }
        return total / Double(Swift.max(layout.total, 1))
    }

    /// Each row's mean over its tokens (rows without tokens left out, as TRL's NaN-skipping
    /// min and max leave them), or the per-row values themselves.
    private func rowMeans(_ values: [Float], perSequence: Bool) -> [Double] {
        if perSequence { return values.map(Double.init) }
        return layout.counts.indices.compactMap { row in
            guard layout.counts[row] > 0 else { return nil }
            let cells = row * layout.width..<(row + 1) * layout.width
            return Double(cells.reduce(Float(0)) { $0 + values[$1] * mask[$1] }) / Double(layout.counts[row])
        }
    }
}
