import FledgeTensor

/// Optimizer state in a checkpoint that cannot be restored: the entry at fault and why.
public struct OptimizerStateError: Error, CustomStringConvertible {
    /// The safetensors file read.
    public let file: String
    /// The state entry, e.g. `exp_avg/model.layers.0.self_attn.q_proj.lora_A.weight`.
    public let entry: String
    /// What is wrong with it and how to fix it.
    public let problem: String

    public var description: String { "\(file): optimizer state '\(entry)' \(problem)" }
}

/// Reads optimizer state entries written by `Optimizer.stateEntries()`, checking each entry's dtype
/// and shape against the parameter it belongs to. Optimizers read every entry before changing any
/// state, so a failed load leaves them as they were.
struct OptimizerStateReader {
    let file: SafeTensorsFile

    private func error(_ entry: String, _ problem: String) -> OptimizerStateError {
        OptimizerStateError(file: file.url.path, entry: entry, problem: problem)
    }

    /// The entry's dtype, or nil when the file has no such entry.
    func dtype(_ entry: String) -> DType? { file.info(entry)?.dtype }

    /// Checks that `entry` exists with `dtype` and `shape` (`owner` names what it belongs to).
    private func check(_ entry: String, _ dtype: DType, _ shape: [Int], owner: String) throws {
        guard let info = file.info(entry) else {
            throw error(entry, "is missing: the checkpoint's optimizer state was written by another optimizer or for "
                + "other trainable parameters (it has \(file.names.count) entries); resume with the same optimizer and "
                + "adapter settings, or start without the optimizer state")
        }
        guard info.dtype == dtype else {
            throw error(entry, "has dtype \(info.dtype.rawValue) but \(owner) keeps it as \(dtype.rawValue); the state was "
                + "written by another optimizer (e.g. 8-bit versus 32-bit AdamW): resume with the optimizer that wrote it")
        }
        guard info.shape == shape else {
            throw error(entry, "has shape \(info.shape) but \(owner) needs \(shape); the checkpoint belongs to another model "
                + "or adapter configuration")
        }
    }

    /// A non-negative count stored as an I64 scalar.
    func count(_ entry: String) throws -> Int {
        try check(entry, .int64, [], owner: "the optimizer")
        let value = try file.integers(entry)[0]
        guard value >= 0 else { throw error(entry, "is \(value); a step count cannot be negative") }
        return value
    }

    /// A float32 entry of `shape` (mapped from the file, not copied); every element must be finite.
    func floats(_ entry: String, shape: [Int], owner: String) throws -> Tensor {
        try check(entry, .float32, shape, owner: owner)
        let values = try file.tensor(entry)
        if let (index, value) = values.firstNonFiniteElement() {
            throw error(entry, "holds \(value) at element \(index); the state was saved from a diverged run and would "
                + "turn the weights into NaN: resume from an earlier checkpoint")
        }
        return values
    }

    /// A U8 entry of `shape`.
    func bytes(_ entry: String, shape: [Int], owner: String) throws -> [UInt8] {
        try check(entry, .uint8, shape, owner: owner)
        return try file.integers(entry).map { UInt8(truncatingIfNeeded: $0) }
    }
}
