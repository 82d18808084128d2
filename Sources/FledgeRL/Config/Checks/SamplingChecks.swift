extension ConfigCheck {
    /// Check 1: the sampling temperature must be positive and below 10; 0.6–1.0 is recommended.
    static func temperature(_ keyPath: WritableKeyPath<Config, Double>) -> ConfigCheck {
        ConfigCheck { resolution in
            let value = resolution.config[keyPath: keyPath]
            if value <= 0 {
                resolution.fail(keyPath, "set a positive, non-zero temperature (sampling divides the logits by it)")
            } else if value >= 10 {
                resolution.fail(keyPath, "set a temperature below 10 (higher samples nearly uniform noise)")
            } else if !(0.6...1.0).contains(value) {
                resolution.note(keyPath, "temperatures between 0.6 and 1.0 are recommended for RL sampling")
            }
        }
    }

    /// Check 2: learning rates below 1e-7 or above 1 are almost surely typos; RL usually uses 1e-6 to 5e-5.
    static var learningRate: ConfigCheck {
        ConfigCheck { resolution in
            let keyPath: WritableKeyPath<Config, Double> = \.training.learningRate
            let value = resolution.config[keyPath: keyPath]
            if value < 1e-7 {
                resolution.warn(keyPath, "the learning rate is too small: below 1e-7 the weights barely move")
            } else if value > 1 {
                resolution.warn(keyPath, "the learning rate is far too large: above 1 training diverges")
            } else if Config.trainer.isReinforcementLearning && !(1e-6...5e-5).contains(value) {
                resolution.note(
                    keyPath, "RL usually uses a learning rate between 1e-6 and 5e-5 (lower than for SFT)")
            }
        }
    }
}
