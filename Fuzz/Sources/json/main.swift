import FledgeLM
import FuzzSupport

/// The package's JSON reader (tokenizer files, config.json, datasets, safetensors headers, metrics
/// logs). Whatever it accepts must survive a round trip through the writer: writing what was read
/// and reading it again gives the same text; also with Python's bare NaN and infinities allowed
/// (metrics logs), which the writer writes back bare.
func fuzzJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = fuzzInput(data, size)
    if let value = try? JSONParser.parse(input) {
        let written = JSONWriter().string(value)
        guard let reread = try? JSONParser.parse(written) else { fatalError("the writer's output does not parse: \(written)") }
        precondition(reread == value, "the round trip changed \(written)")
        precondition(JSONWriter().string(reread) == written, "writing is not stable for \(written)")
    }
    if let value = try? JSONParser.parse(input, allowingNonFiniteNumbers: true) {
        let written = JSONWriter().string(value)
        guard let reread = try? JSONParser.parse(written, allowingNonFiniteNumbers: true) else {
            fatalError("the writer's output does not parse with non-finite numbers allowed: \(written)")
        }
        precondition(JSONWriter().string(reread) == written, "writing is not stable for \(written)")
    }
    return 0
}

runFuzzer(fuzzJSON)
