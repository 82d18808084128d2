import FledgeTensor

/// An optimizer's step counts: the steps taken, and per parameter the steps that updated it.
///
/// PyTorch keeps a step per parameter (`state[p]["step"]`) and advances it only when the parameter
/// has a gradient; Adam's bias correction uses that count, so a parameter that sat out a step
/// stays one behind, exactly as in PyTorch. Saved as `step` and `step/<parameter name>` (I64).
struct StepCounts {
    /// `step()` calls so far.
    private(set) var total = 0
    /// Updates of each parameter so far, in the optimizer's parameter order.
    private(set) var perParameter: [Int]

    init(parameterCount: Int) { perParameter = Array(repeating: 0, count: parameterCount) }

    /// Counts one `step()` call.
    mutating func advanceTotal() { total += 1 }

    /// Counts an update of parameter `index` and returns its new step number (1 for the first).
    mutating func advance(parameter index: Int) -> Int {
        perParameter[index] += 1
        return perParameter[index]
    }

    /// The safetensors entries of the counts.
    func entries(_ parameters: [Parameter]) -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        [("step", Self.entry(total))] + zip(parameters, perParameter).map { ("step/\($0.name)", Self.entry($1)) }
    }

    /// The counts written by `entries(_:)`.
    static func read(from reader: OptimizerStateReader, _ parameters: [Parameter]) throws -> StepCounts {
        var counts = StepCounts(parameterCount: 0)
        counts.total = try reader.count("step")
        counts.perParameter = try parameters.map { try reader.count("step/\($0.name)") }
        return counts
    }

    private static func entry(_ count: Int) -> SafeTensorsWriter.Entry { .integers([count], shape: [], .int64) }
}
