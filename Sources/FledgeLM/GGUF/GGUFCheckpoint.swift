import FledgeTensor

extension Checkpoint {
    /// The tensors of a GGUF file decoded to float32, under their Hugging Face names, with the Q and
    /// K rows of a `llama` conversion put back in Hugging Face's order. A tensor the architecture
    /// does not have is an error naming it.
    convenience init(gguf file: GGUFFile, architecture: GGUFArchitecture, heads: Int, kvHeads: Int) throws {
        var tensors: [String: Tensor] = [:]
        for info in file.tensorInfos {
            guard let name = GGUFTensorNames.huggingFaceName(info.name, architecture: architecture) else {
                throw ModelError.invalidFile(path: file.url.path, problem: "has tensor '\(info.name)', which Fledge does not know "
                    + "for architecture '\(architecture.name)' (it reads token_embd, output_norm, output and blk.N.attn_*/ffn_* tensors)")
            }
            var tensor = try file.tensor(info.name)
            if architecture.permutesQueryKeyRows {
                let (query, key) = GGUFTensorNames.isQueryOrKeyProjection(info.name)
                if query || key {
                    tensor = try Self.unpermuteRows(tensor, heads: query ? heads : kvHeads, file: file.url.path, tensor: info.name)
                }
            }
            tensors[name] = tensor
        }
        self.init(tensors: tensors, description: file.url.path)
    }

    /// Undoes convert_hf_to_gguf.py's `LlamaModel.permute`: within each head of `2·half` rows, GGUF
    /// row `2i + j` is Hugging Face row `j·half + i`.
    static func unpermuteRows(_ tensor: Tensor, heads: Int, file: String, tensor name: String) throws -> Tensor {
        let rows = tensor.shape[0], columns = tensor.count / max(rows, 1)
        guard heads > 0, rows % (2 * heads) == 0 else {
            throw ModelError.invalidFile(path: file, problem: "tensor '\(name)' has \(rows) rows, not a multiple of "
                + "2 × \(heads) heads; it does not match attention.head_count")
        }
        let headRows = rows / heads, half = headRows / 2
        let source = tensor.contiguous().toArray()
        return Tensor(shape: tensor.shape) { output in
            for head in 0..<heads {
                for i in 0..<half {
                    for j in 0..<2 {
                        let from = (head * headRows + 2 * i + j) * columns, to = (head * headRows + j * half + i) * columns
                        for column in 0..<columns { output[to + column] = source[from + column] }
                    }
                }
            }
        }
    }
}
