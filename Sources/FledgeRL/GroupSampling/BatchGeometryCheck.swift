extension ConfigCheck where Config: GroupSamplingConfig {
    /// Check 4: halving the batch on out-of-memory would split groups of generations.
    static var autoFindBatchSize: ConfigCheck {
        ConfigCheck { resolution in
            if resolution.config.training.autoFindBatchSize {
                resolution.fail(
                    \.training.autoFindBatchSize,
                    "set it to false: halving the batch on out-of-memory would split groups of "
                        + "num_generations completions; lower per_device_train_batch_size instead")
            }
        }
    }

    /// Check 3: the generation batch must hold whole groups of `num_generations` completions.
    ///
    /// With `unslothFix`, Unsloth's rule runs first: when neither `steps_per_generation` nor
    /// `generation_batch_size` is set and `gradient_accumulation_steps × world_size ×
    /// per_device_train_batch_size` is not a multiple of `num_generations`, the batch size becomes
    /// `num_generations`. Then TRL's `__post_init__` rules derive and check the generation batch.
    static func batchGeometry(unslothFix: Bool) -> ConfigCheck {
        ConfigCheck { resolution in
            let world = resolution.worldSize
            let generations = resolution.config.generation.numGenerations
            var generation = resolution.config.generation
            let given = (size: generation.generationBatchSize, steps: generation.stepsPerGeneration)
            let accumulation = resolution.config.training.gradientAccumulationSteps
            if unslothFix, generation.generationBatchSize == nil, generation.stepsPerGeneration == nil {
                let batch = resolution.config.training.perDeviceTrainBatchSize
                let global = accumulation * world * batch
                if global % generations != 0 {
                    resolution.change(
                        \.training.perDeviceTrainBatchSize, to: generations,
                        "gradient_accumulation_steps × world_size × per_device_train_batch_size = "
                            + "\(accumulation) × \(world) × \(batch) = \(global) is not a multiple of "
                            + "num_generations (\(generations)), so groups would be split; "
                            + "per_device_train_batch_size set to num_generations")
                }
            }
            let batch = resolution.config.training.perDeviceTrainBatchSize
            let perStep = batch * world
            switch (generation.generationBatchSize, generation.stepsPerGeneration) {
            case (nil, nil):
                generation.stepsPerGeneration = accumulation
                generation.generationBatchSize = perStep * accumulation
            case (let size?, nil):
                guard size % perStep == 0 else {
                    resolution.fail(
                        \.generation.generationBatchSize,
                        "generation_batch_size must be divisible by per_device_train_batch_size × world_size "
                            + "= \(batch) × \(world) = \(perStep)")
                    return
                }
                generation.stepsPerGeneration = size / perStep
            case (nil, let steps?):
                generation.generationBatchSize = perStep * steps
            case (_?, _?):
                resolution.fail(
                    \.generation.stepsPerGeneration,
                    "set either steps_per_generation or generation_batch_size, not both "
                        + "(generation_batch_size = \(generation.generationBatchSize!))")
                return
            }
            let size = generation.generationBatchSize!
            if given.size == nil { resolution.derive(\.generation.generationBatchSize, size) }
            if given.steps == nil { resolution.derive(\.generation.stepsPerGeneration, generation.stepsPerGeneration) }
            if size % generations != 0 {
                resolution.fail(
                    \.generation.generationBatchSize,
                    "generation_batch_size must be divisible by num_generations (\(generations)) so that every "
                        + "group of completions is whole")
            }
            let evalGenerations = generation.numGenerationsEval ?? generations
            let evalBatch = resolution.config.training.perDeviceEvalBatchSize * world
            if resolution.config.training.evaluates, evalBatch % evalGenerations != 0 {
                resolution.fail(
                    \.training.perDeviceEvalBatchSize,
                    "per_device_eval_batch_size × world_size = \(evalBatch) must be divisible by the number "
                        + "of generations used for evaluation (\(evalGenerations))")
            }
        }
    }

    /// `epsilon_high` defaults to `epsilon` (TRL's rule).
    static var epsilonHigh: ConfigCheck {
        ConfigCheck { resolution in
            if resolution.config.generation.epsilonHigh == nil {
                resolution.derive(\.generation.epsilonHigh, resolution.config.generation.epsilon)
            }
        }
    }
}
