import Foundation
import FledgeLM
import FledgeTensor

/// Reference log-probabilities of a split computed once before training (`precompute_ref_log_probs`)
/// and kept in `output_dir/reference_logps/<split>.safetensors` with a fingerprint of the tokenized
/// sequences, the settings that shape the values and the model files, so a re-run or a resume with the
/// same data and model reads them instead of computing them again (TRL keys its cache by the dataset's
/// fingerprint and a hash of the model in the same way). DPO and KTO keep theirs here.
enum ReferenceLogProbCache {
    /// The cache file of `split` under `directory`.
    static func file(split: String, directory: URL) -> URL {
        directory.appendingPathComponent("reference_logps").appendingPathComponent(split + ".safetensors")
    }

    /// The values stored under `names` in `file`, when its fingerprint is `fingerprint` and each has
    /// `count` values; nil otherwise (no file, another fingerprint, a damaged file).
    static func read(_ file: URL, fingerprint: String, names: [String], count: Int) -> [[Float]]? {
        guard let cached = try? SafeTensorsFile(url: file), cached.metadata["fingerprint"] == fingerprint else { return nil }
        let values = names.compactMap { try? cached.tensor($0).toArray() }
        guard values.count == names.count, values.allSatisfy({ $0.count == count }) else { return nil }
        return values
    }

    /// The values named `names` (one per row of `count` rows each) of `split`, read from its cache file in
    /// `directory` when the file has `fingerprint`, else `compute`d for the rows in batches of `batchSize`
    /// (each batch's values in the order of `names`, appended batch by batch) and written there.
    static func readOrCompute(split: String, directory: URL, fingerprint: String, names: [String], count: Int,
                              batchSize: Int, _ compute: (Range<Int>) -> [[Float]]) throws -> (values: [[Float]], wasCached: Bool) {
        let file = file(split: split, directory: directory)
        if let cached = read(file, fingerprint: fingerprint, names: names, count: count) { return (cached, true) }
        var values = names.map { _ in [Float]() }
        for start in stride(from: 0, to: count, by: Swift.max(batchSize, 1)) {
            let batch = compute(start..<Swift.min(start + Swift.max(batchSize, 1), count))
            precondition(batch.count == names.count, "\(batch.count) value lists for \(names)")
            for index in names.indices { values[index] += batch[index] }
        }
        try write(zip(names, values).map { (name: $0, values: $1) }, fingerprint: fingerprint, to: file)
        return (values, false)
    }

    /// Writes `values` (a name and one value per row each) with `fingerprint` to `file`.
    static func write(_ values: [(name: String, values: [Float])], fingerprint: String, to file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try SafeTensorsWriter.write(
            values.map { (name: $0.name, tensor: Tensor(shape: [$0.values.count], values: $0.values)) },
            metadata: ["fingerprint": fingerprint], to: file)
    }

    /// FNV-1a over the sequences' ids and completion starts, `settings`, bfloat16 `Autocast` if on, and the model: its directory,
    /// and the name, size and modification time of each of its files (or of the GGUF file it was read from).
    static func fingerprint(_ sequences: [CompletionSequence], settings: [UInt64], model: LanguageModel) -> String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        func mix(_ value: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { hash = (hash ^ ((value >> UInt64(shift)) & 0xFF)) &* 0x100_0000_01B3 }
        }
        func mix(_ text: String) { for byte in text.utf8 { mix(UInt64(byte)) } }
        for sequence in sequences {
            mix(UInt64(sequence.ids.count))
            mix(UInt64(sequence.completionStart))
            for id in sequence.ids { mix(UInt64(bitPattern: Int64(id))) }
        }
        settings.forEach(mix)
        // bfloat16 products give other values; float32 fingerprints stay as they were.
        if Autocast.isBFloat16 { mix("bf16") }
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
