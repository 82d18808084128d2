/// Whether operations record autograd history on the current task.
public enum GradMode {
    @TaskLocal static var isEnabled = true

    /// Whether new results of trainable tensors record history right now.
    public static var enabled: Bool { isEnabled }
}

extension Tensor {
    /// Runs `body` with autograd off: no history is recorded and no activations are kept
    /// (inference, generation, reference log-probs).
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        try GradMode.$isEnabled.withValue(false, operation: body)
    }
}
