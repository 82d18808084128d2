import FledgeLM
import FledgeTensor
import FuzzSupport

/// A GGUF file: the header is validated on open, then every metadata value is read through the
/// typed accessors, every readable tensor is decoded (and, where the quantized base stores its
/// type, kept as blocks and decoded again), and the tokenizer its `tokenizer.ggml.*`
/// keys describe is built and used, so that whatever the validation lets through is used as the
/// model and tokenizer loaders use it.
func fuzzGGUF(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchDirectory.write(fuzzInput(data, size), to: "model.gguf")
    guard let file = try? GGUFFile(url: url) else { return 0 }
    for (key, _) in file.metadataEntries {
        _ = try? file.string(key)
        _ = try? file.integer(key)
        _ = try? file.number(key)
        _ = try? file.strings(key)
        _ = try? file.integers(key)
    }
    for info in file.tensorInfos where info.type.isReadable {
        let tensor = try! file.tensor(info.name)
        precondition(tensor.shape == info.shape && tensor.count == info.count)
        let values = tensor.toArray()
        // A matrix kept in its blocks (as a model keeps Q8_0/Q4_0/Q4_K linear weights) holds the same values.
        if let matrix = try! file.quantizedMatrix(info.name) {
            precondition(matrix.shape == info.shape, "kept \(info.name) is \(matrix.shape), not \(info.shape)")
            precondition(zip(matrix.dequantized().toArray(), values).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) },
                         "kept blocks of \(info.name) decode to other values than the tensor")
        }
    }
    if let tokenizer = try? Tokenizer(gguf: file) {
        let ids = tokenizer.encode("Hello, world! 123 <|im_start|> naïve 日本語", addSpecialTokens: true)
        precondition(ids.allSatisfy { $0 >= 0 && $0 < tokenizer.vocabularySize }, "ids \(ids) outside the vocabulary")
        _ = tokenizer.decode(ids)
    }
    return 0
}

runFuzzer(fuzzGGUF)
