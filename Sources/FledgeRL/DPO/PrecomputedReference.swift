import Foundation
import FledgeLM
import FledgeTensor

/// DPO's reference log-probabilities of every pair of a split, computed in one pass before training
/// (`precompute_ref_log_probs`), as TRL's `_precompute_ref_logps` does.
///
/// They are kept in `output_dir/reference_logps/<split>.safetensors` with a fingerprint of the
/// tokenized pairs, `ld_alpha` and the model files, so a re-run or a resume with the same data and
/// model reads them instead of computing them again (TRL keys its cache by the dataset's fingerprint
/// and a hash of the model in the same way).
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
        let file = directory.appendingPathComponent("reference_logps").appendingPathComponent(split + ".safetensors")
        let fingerprint = Self.fingerprint(pairs, ldAlpha: ldAlpha, model: model)
        if let cached = try? SafeTensorsFile(url: file), cached.metadata["fingerprint"] == fingerprint,
           let chosen = try? cached.tensor("chosen").toArray(), let rejected = try? cached.tensor("rejected").toArray(),
           chosen.count == pairs.count, rejected.count == pairs.count {
            (self.chosen, self.rejected, wasCached) = (chosen, rejected, true)
            return
        }
        var chosen: [Float] = [], rejected: [Float] = []
        for start in stride(from: 0, to: pairs.count, by: Swift.max(batchSize, 1)) {
            let batch = Array(pairs[start..<Swift.min(start + Swift.max(batchSize, 1), pairs.count)])
            let sequences = batch.map(\.chosen) + batch.map(\.rejected)
            let logProbs = reference.logProbs(sequences.map(\.ids), scoredFrom: sequences.map(\.scoredFrom),
                                              batchSize: sequences.count)
            let sums = DPOSequenceLogProbs.referenceSums(logProbs, counts: sequences.map(\.scoredCount), ldAlpha: ldAlpha)
            chosen += sums.chosen
            rejected += sums.rejected
        }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafeTensorsWriter.write(
            [(name: "chosen", tensor: Tensor(shape: [pairs.count], values: chosen)),
             (name: "rejected", tensor: Tensor(shape: [pairs.count], values: rejected))],
            metadata: ["fingerprint": fingerprint], to: file)
        (self.chosen, self.rejected, wasCached) = (chosen, rejected, false)
    }

    /// FNV-1a over the pairs' ids and completion starts, `ld_alpha`, and the model: its directory, and
    /// the name, size and modification time of each of its files (or of the GGUF file it was read from).
    static func fingerprint(_ pairs: [PreferencePair], ldAlpha: Double?, model: LanguageModel) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { hash = (hash ^ ((value >> UInt64(shift)) & 0xFF)) &* 0x100_0000_01B3 }
        }
        func mix(_ text: String) { for byte in text.utf8 { mix(UInt64(byte)) } }
        for pair in pairs {
            for sequence in [pair.chosen, pair.rejected] {
                mix(UInt64(sequence.ids.count))
                mix(UInt64(sequence.completionStart))
                for id in sequence.ids { mix(UInt64(bitPattern: Int64(id))) }
            }
        }
        mix(ldAlpha.map { $0.bitPattern } ?? UInt64.max)
        mix(model.directory.standardizedFileURL.path)
        // A directory's files, or the model file itself (a GGUF file).
        let files = (try? FileManager.default.contentsOfDirectory(atPath: model.directory.path))?.sorted() ?? [""]
        for name in files {
            let path = name.isEmpty ? model.directory.path : model.directory.appendingPathComponent(name).path
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            mix(name)
            mix((attributes?[.size] as? NSNumber)?.uint64Value ?? 0)
            mix(((attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0).bitPattern)
        }
        return String(hash, radix: 16)
    }
}
