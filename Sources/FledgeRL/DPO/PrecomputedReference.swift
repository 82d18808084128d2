import Foundation
import FledgeLM
import FledgeTensor

/// DPO's reference log-probabilities of every pair of a split, computed in one pass before training
/// (`precompute_ref_log_probs`), as TRL's `_precompute_ref_logps` does, and cached in
/// `output_dir/reference_logps/<split>.safetensors` (``ReferenceLogProbCache``: keyed by the tokenized
/// pairs, `ld_alpha` and the model files).
public struct PrecomputedReference: Sendable {
    /// Each pair's reference log-probability of its chosen and of its rejected completion.
    public let chosen: [Float]
    public let rejected: [Float]
    /// Whether they were read from the cache file (else computed now and written to it).
    public let wasCached: Bool

    /// The cached values of `pairs` in `directory` when the fingerprint matches, else computed with
    /// `reference` in batches of `batchSize` pairs and written there.
    public init(pairs: [PreferencePair], split: String, directory: URL, reference: ReferencePolicy, model: LanguageModel,
                ldAlpha: Double?, batchSize: Int) throws {
        let fingerprint = ReferenceLogProbCache.fingerprint(pairs.flatMap { [$0.chosen, $0.rejected] },
                                                            settings: [ldAlpha.map { $0.bitPattern } ?? UInt64.max], model: model)
        let (values, wasCached) = try ReferenceLogProbCache.readOrCompute(
            split: split, directory: directory, fingerprint: fingerprint, names: ["chosen", "rejected"], count: pairs.count,
            batchSize: batchSize) { range in
                let batch = Array(pairs[range])
                let sequences = batch.map(\.chosen) + batch.map(\.rejected)
                let logProbs = reference.logProbs(sequences.map(\.ids), scoredFrom: sequences.map(\.scoredFrom),
                                                  batchSize: sequences.count)
                let sums = DPOSequenceLogProbs.referenceSums(logProbs, counts: sequences.map(\.scoredCount), ldAlpha: ldAlpha)
                return [sums.chosen, sums.rejected]
            }
        (chosen, rejected, self.wasCached) = (values[0], values[1], wasCached)
    }
}
