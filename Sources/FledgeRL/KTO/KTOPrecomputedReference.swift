import Foundation
import FledgeLM

/// KTO's reference log-probabilities of every row of a split, computed in one pass before training
/// (`precompute_ref_log_probs`), as TRL's `_precompute_ref_logps` does: of each row's completion
/// (`ref_logps`) and of its mismatched completion (`ref_KL_logps`, when the loss estimates the KL
/// term), cached in `output_dir/reference_logps/<split>.safetensors` (``ReferenceLogProbCache``).
public struct KTOPrecomputedReference: Sendable {
    /// Each row's reference log-probability of its completion.
    public let completions: [Float]
    /// Each row's reference log-probability of its mismatched completion; nil without a KL term.
    public let mismatched: [Float]?
    /// Whether they were read from the cache file (else computed now and written to it).
    public let wasCached: Bool

    /// The cached values of `rows` in `directory` when the fingerprint matches, else computed with
    /// `reference` in batches of `batchSize` rows and written there.
    public init(rows: [UnpairedSequence], split: String, directory: URL, reference: ReferencePolicy, model: LanguageModel,
                batchSize: Int) throws {
        let withKL = rows.allSatisfy { $0.mismatched != nil }
        let names = withKL ? ["completions", "mismatched"] : ["completions"]
        let fingerprint = ReferenceLogProbCache.fingerprint(rows.flatMap { [$0.sequence] + ($0.mismatched.map { [$0] } ?? []) },
                                                            settings: [withKL ? 1 : 0], model: model)
        let (values, wasCached) = try ReferenceLogProbCache.readOrCompute(
            split: split, directory: directory, fingerprint: fingerprint, names: names, count: rows.count,
            batchSize: batchSize) { range in
                let sums = KTO.referenceSums(Array(rows[range]), reference: reference)
                return [sums.completions] + (withKL ? [sums.mismatched ?? []] : [])
            }
        (completions, mismatched, self.wasCached) = (values[0], withKL ? values[1] : nil, wasCached)
    }
}
