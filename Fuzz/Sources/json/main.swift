import FledgeLM
import FuzzSupport

/// The package's JSON reader (tokenizer files, config.json, datasets, safetensors headers). Whatever it
/// accepts must survive a round trip through the writer: writing what was read and reading it again
/// gives the same text.
func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let value = try? JSONParser.parse(fuzzInput(data, size)) else { return 0 }
    let written = JSONWriter().string(value)
    guard let reread = try? JSONParser.parse(written) else { fatalError("the writer's output does not parse: \(written)") }
    precondition(reread == value, "the round trip changed \(written)")
    precondition(JSONWriter().string(reread) == written, "writing is not stable for \(written)")
    return 0
}

runFuzzer(fuzzJSON)
