/// Whether operations record autograd history on the current task.
public enum GradMode {
    @TaskLocal static var isEnabled = true
    /// Set while a checkpointed segment runs its first, unrecorded pass (see `checkpointed`).
    @TaskLocal static var isCheckpointPass = false

    /// Whether new results of trainable tensors record history right now.
    public static var enabled: Bool { isEnabled }

    /// Whether the current computation belongs to a training step: grad mode is on, or a
    /// checkpointed segment is running its first pass without recording (it will be recomputed
    /// with recording on in backward). Training-only behaviour such as dropout keys on this, so
    /// that both passes of a checkpointed segment compute the same thing.
    public static var isTraining: Bool { isEnabled || isCheckpointPass }
}

extension Tensor {
    /// Runs `body` with autograd off: no history is recorded and no activations are kept
    /// (inference, generation, reference log-probs).
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        try GradMode.$isEnabled.withValue(false, operation: body)
    }
}
