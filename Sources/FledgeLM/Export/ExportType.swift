import FledgeTensor

/// How the weights of an exported model are stored (`fledge export --dtype`): plain floats, in a
/// safetensors directory or a GGUF file, or a GGML block format, in a GGUF file only.
public enum ExportType: String, CaseIterable, Sendable {
    case f32, f16, bf16, q8_0, q4_0, q4_k

    /// The safetensors dtype, nil for the block formats (which safetensors does not store).
    public var safeTensorsDType: DType? {
        switch self {
        case .f32: .float32
        case .f16: .float16
        case .bf16: .bfloat16
        case .q8_0, .q4_0, .q4_k: nil
        }
    }

    /// The GGML type of the matrices of a GGUF file.
    var ggmlType: GGMLType {
        guard let type = GGMLType.type(named: rawValue) else { preconditionFailure("GGML has no type \(rawValue)") }
        return type
    }

    /// llama.cpp's `general.file_type` (`LLAMA_FTYPE_ALL_F32`, `…_MOSTLY_F16`, …; Q4_K is `MOSTLY_Q4_K_S`,
    /// every matrix Q4_K).
    var llamaFileType: UInt32 {
        switch self {
        case .f32: 0
        case .f16: 1
        case .q4_0: 2
        case .q8_0: 7
        case .q4_k: 14
        case .bf16: 32
        }
    }

    /// The GGML type a tensor of `shape` is stored as, as llama.cpp's converter and `llama-quantize`
    /// choose: vectors (norms, biases) F32; matrices this type, or, when their rows are not a whole
    /// number of its blocks, Q8_0 in place of Q4_K (llama.cpp takes Q5_0, which Fledge does not
    /// write), and F16 when rows are not a whole number of 32-value blocks either.
    func ggmlType(shape: [Int]) -> GGMLType {
        guard shape.count > 1 else { return ExportType.f32.ggmlType }
        let columns = shape.last ?? 0
        for candidate in [self, .q8_0, .f16] where columns % candidate.ggmlType.valuesPerBlock == 0 {
            return candidate.ggmlType
        }
        return ExportType.f16.ggmlType
    }
}
