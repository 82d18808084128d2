import FledgeTensor
import FuzzSupport

/// A GGUF file: the header is validated on open, then every metadata value is read through the
/// typed accessors and every readable tensor is decoded, so that whatever the validation lets
/// through is used as the model loader uses it.
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
        _ = tensor.toArray()
    }
    return 0
}

runFuzzer(fuzzGGUF)
