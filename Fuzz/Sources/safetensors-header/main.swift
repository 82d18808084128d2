import FledgeTensor
import FuzzSupport

/// A safetensors file: the header is validated on open, then every tensor is read, so that whatever
/// the validation lets through is used as the loaders use it.
func fuzzSafeTensorsHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchDirectory.write(fuzzInput(data, size), to: "model.safetensors")
    guard let file = try? SafeTensorsFile(url: url) else { return 0 }
    for name in file.names {
        guard let info = file.info(name) else { fatalError("'\(name)' is listed but has no info") }
        if info.dtype.isFloatingPoint {
            let tensor = try! file.tensor(name)
            precondition(tensor.shape == info.shape && tensor.count == info.count)
            _ = tensor.toArray()
        } else {
            precondition(try! file.integers(name).count == info.count)
        }
    }
    return 0
}

runFuzzer(fuzzSafeTensorsHeader)
