import FledgeTensor

/// Updates parameters in place from their accumulated gradients.
///
/// The trainer loop owns the learning rate (the schedule gives it per step) and passes it to
/// `step`; a parameter whose `grad` is nil is skipped, as PyTorch skips it. Optimizers keep their
/// state per parameter name, so a checkpoint's state loads back onto the same parameters.
public protocol Optimizer: AnyObject {
    /// The parameters this optimizer updates, in a fixed order.
    var parameters: [Parameter] { get }
    /// Optimizer steps taken so far (the bias-correction step of Adam).
    var stepCount: Int { get }
    /// Applies one update at `learningRate` from each parameter's `grad`.
    func step(learningRate: Double)
    /// The state as named safetensors entries (moments, quantisation scales, the step count),
    /// to be written into a checkpoint's `optimizer.safetensors`.
    func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)]
    /// Restores the state written by `stateEntries()`; throws when a parameter's state is
    /// missing or has the wrong shape (naming the parameter).
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
