import FledgeLM

extension ConfigCheck {
    /// Check 1: 0.6–1.0 is the recommended sampling temperature (its range, `(0, 10)`, is the field's:
    /// ``ConfigRange/samplingTemperature``).
    static func recommendedTemperature(_ keyPath: WritableKeyPath<Config, Double>) -> ConfigCheck {
        ConfigCheck { resolution in
            if !(0.6...1.0).contains(resolution.config[keyPath: keyPath]) {
                resolution.note(keyPath, "temperatures between 0.6 and 1.0 are recommended for RL sampling")
            }
        }
    }

    /// `train_sampling_strategy`: `batch_rebalance` varies the micro-batch size, which Fledge's fixed
    /// micro-batches cannot; `group_by_length` needs each row's `input_ids`, which only SFT's rows have
    /// (TRL's DPO and KTO raise there too); trainers that sample prompts their own way ignore it, as TRL does.
    static func trainSamplingStrategy(groupsByLength: Bool, ignored: Bool = false) -> ConfigCheck {
        ConfigCheck { resolution in
            let keyPath: WritableKeyPath<Config, TrainSamplingStrategy> = \.training.trainSamplingStrategy
            let strategy = resolution.config[keyPath: keyPath]
            if ignored {
                if strategy != .random {
                    resolution.note(keyPath, "\(Config.trainer.trlConfigName) samples prompts its own way (as TRL's trainer does), "
                        + "so train_sampling_strategy changes nothing here")
                }
            } else if strategy == .batchRebalance {
                resolution.fail(keyPath, "batch_rebalance makes micro-batches of different sizes, and Fledge's micro-batches "
                    + "hold per_device_train_batch_size rows; use group_by_length (SFT), random or sequential")
            } else if strategy == .groupByLength && !groupsByLength {
                resolution.fail(keyPath, "group_by_length groups rows by their input_ids, which \(Config.trainer.trlConfigName)'s "
                    + "rows do not have (TRL raises there too); use random or sequential")
            }
        }
    }

    /// Check 2: positive learning rates (the field's range) below 1e-7 or above 1 are almost surely
    /// typos; RL usually uses 1e-6 to 5e-5.
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

extension ConfigCheck where Config: GroupSamplingConfig {
    /// `generation_kwargs` must be keys the sampler honours, with valid values (token ids are checked
    /// against the vocabulary when the model is loaded).
    static var generationKeywordArguments: ConfigCheck {
        ConfigCheck { resolution in
            var sampling = SamplingOptions()
            do throws(KeywordArgumentsError) {
                try resolution.config.generation.applyGenerationKeywordArguments(to: &sampling)
            } catch {
                resolution.fail(\.generation.generationKwargs, error.description)
            }
        }
    }
}
