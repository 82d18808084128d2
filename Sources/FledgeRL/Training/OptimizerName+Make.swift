import FledgeNN

extension OptimizerName {
    /// The optimizer this name selects over `parameters`, with the training arguments' β, ε and
    /// weight decay: `adamw_torch`/`adamw_torch_fused` → ``AdamW``; the 8-bit names → ``AdamW8bit``
    /// (bitsandbytes' block-wise 8-bit states); `sgd` → ``SGD`` (no momentum, as transformers builds it).
    public func make(parameters: [Parameter], arguments: TrainingArguments) -> any Optimizer {
        switch self {
        case .adamwTorch, .adamwTorchFused:
            AdamW(parameters: parameters, beta1: arguments.adamBeta1, beta2: arguments.adamBeta2,
                  epsilon: arguments.adamEpsilon, weightDecay: arguments.weightDecay)
        case .adamw8bit, .adamwBnb8bit, .pagedAdamw8bit:
            AdamW8bit(parameters: parameters, beta1: arguments.adamBeta1, beta2: arguments.adamBeta2,
                      epsilon: arguments.adamEpsilon, weightDecay: arguments.weightDecay)
        case .sgd:
            SGD(parameters: parameters, weightDecay: arguments.weightDecay)
        }
    }
}
