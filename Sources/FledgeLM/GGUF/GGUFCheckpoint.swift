import FledgeTensor

extension Checkpoint {
    /// The tensors of a GGUF file under their Hugging Face names, with the Q and K rows of a
    /// `llama` conversion put back in Hugging Face's order and the converter's shift of Gemma's norm
    /// weights taken off (`GGUFArchitecture.normWeightShift`). With `weights` `.keep`, each decoder
    /// layer matrix (`blk.N.*`, the linear weights) whose type the quantized base stores (Q8_0,
    /// Q4_0, Q4_K) keeps the file's blocks as a `QuantizedMatrix`; every other tensor is decoded to
    /// float32. A tensor the architecture does not have is an error naming it.
    convenience init(gguf file: GGUFFile, architecture: GGUFArchitecture, heads: Int, kvHeads: Int, weights: GGUFWeights) throws {
        var tensors: [String: DeferredTensor] = [:]
        var quantized: [String: QuantizedMatrix] = [:]
        for info in file.tensorInfos where !GGUFTensorNames.ropeFactors.contains(info.name) && info.name != GGUFLlama3Rope.tensorName {
            guard let name = GGUFTensorNames.huggingFaceName(info.name, architecture: architecture) else {
                throw ModelError.invalidFile(path: file.url.path, problem: "has tensor '\(info.name)', which Fledge does not know "
                    + "for architecture '\(architecture.name)' (it reads token_embd, output_norm, output and blk.N.attn_*/ffn_* tensors)")
            }
            let (query, key) = GGUFTensorNames.isQueryOrKeyProjection(info.name)
            let order = architecture.permutesQueryKeyRows && (query || key)
                ? try Self.unpermutedRowOrder(rows: info.shape[0], heads: query ? heads : kvHeads, file: file.url.path, tensor: info.name)
                : nil
            if weights == .keep, GGUFTensorNames.isLayerMatrix(info), var matrix = try file.quantizedMatrix(info.name) {
                if let order { matrix = try QuantizedMatrix(stacking: order.map { matrix.rows($0..<$0 + 1) }, name: info.name) }
                quantized[name] = matrix
            } else {
                let shift = GGUFTensorNames.isNormWeight(info.name) ? architecture.normWeightShift : 0
                tensors[name] = DeferredTensor(shape: info.shape) {
                    let tensor = try file.tensor(info.name)
                    if shift != 0 { return tensor - shift }
                    return order.map { tensor.indexSelect($0, indexShape: [$0.count]) } ?? tensor
                }
            }
        }
        self.init(deferred: tensors, quantized: quantized, description: file.url.path)
    }

    /// Undoes convert_hf_to_gguf.py's `LlamaModel.permute`: within each head of `2·half` rows, GGUF
    /// row `2i + j` is Hugging Face row `j·half + i`. Returns, for each Hugging Face row, its GGUF row.
    static func unpermutedRowOrder(rows: Int, heads: Int, file: String, tensor name: String) throws -> [Int] {
        guard heads > 0, rows % (2 * heads) == 0 else {
            throw ModelError.invalidFile(path: file, problem: "tensor '\(name)' has \(rows) rows, not a multiple of "
                + "2 × \(heads) heads; it does not match attention.head_count")
        }
        let headRows = rows / heads, half = headRows / 2
        var order = [Int](repeating: 0, count: rows)
        for head in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 { order[head * headRows + j * half + i] = head * headRows + 2 * i + j }
            }
        }
        return order
    }
}
