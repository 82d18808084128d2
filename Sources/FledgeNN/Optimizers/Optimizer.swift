import FledgeTensor

/// Updates parameters in place from their accumulated gradients.
///
/// The trainer loop owns the learning rate (a `LearningRateSchedule` gives it per step) and
/// passes it to `step`; clipping (`GradientClipping`) happens before. A parameter whose `grad` is
/// nil is skipped and its own step count does not advance, as in PyTorch. Optimizers keep their
/// state per parameter name (`exp_avg/<name>`, `momentum_buffer/<name>`, …, plus `step` and
/// `step/<name>`), so a checkpoint's state loads back onto the same parameters, and loading and
/// then stepping continues bit for bit as if training had not stopped.
///
/// Implementations: `AdamW`, `AdamW8bit`, `SGD`.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, in a fixed order.
    var parameters: [Parameter] { get }
    /// `step` calls so far. (Adam's bias correction counts each parameter's own updates, which
    /// equal this unless a parameter had no gradient at some step.)
    var stepCount: Int { get }
    /// Applies one update at `learningRate` from each parameter's `grad`.
    func step(learningRate: Double)
    /// The state as named safetensors entries (moments, quantisation scales, the step count),
    /// to be written into a checkpoint's `optimizer.safetensors`.
    func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)]
    /// Restores the state written by `stateEntries()`; throws `OptimizerStateError` (naming the
    /// entry and the parameter) when an entry is missing or has the wrong dtype or shape, and then
    /// changes nothing.
    func loadState(from file: SafeTensorsFile) throws
    /// Bytes of optimizer state held in memory.
    var stateBytes: Int { get }
}

extension Optimizer {
    /// Clears every parameter's gradient (after an optimizer step).
    public func zeroGrad() {
        for parameter in parameters { parameter.tensor.zeroGrad() }
    }
}
