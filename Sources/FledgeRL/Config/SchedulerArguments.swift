import FledgeNN

extension TrainingArguments {
    /// The schedule's shape from `lr_scheduler_type` and `lr_scheduler_kwargs`, read as transformers'
    /// `get_scheduler` reads them: each schedule takes its function's arguments and no others, and the
    /// two constant schedules ignore any (`ignoredSchedulerArguments` names them for a warning).
    public func learningRateShape() throws(KeywordArgumentsError) -> LearningRateShape {
        var reader = KeywordArgumentReader(field: "lr_scheduler_kwargs", arguments: lrSchedulerKwargs)
        let shape: LearningRateShape
        switch lrSchedulerType {
        case .linear:
            shape = .linear
        case .constant:
            return .constant
        case .constantWithWarmup:
            return .constantWithWarmup
        case .cosine:
            shape = .cosine(cycles: try reader.number("num_cycles") ?? 0.5)
        case .cosineWithRestarts:
            shape = .cosineWithHardRestarts(cycles: try reader.number("num_cycles") ?? 1)
        case .polynomial:
            let end = try reader.number("lr_end") ?? 1e-7
            guard learningRate > end else {
                throw KeywordArgumentsError(description: "lr_scheduler_kwargs.lr_end (\(end)) must be smaller than "
                    + "learning_rate (\(learningRate)): the polynomial schedule decays from learning_rate to lr_end")
            }
            shape = .polynomial(endLearningRate: end, power: try reader.number("power") ?? 1)
        case .inverseSqrt:
            let timescale = try reader.integer("timescale")
            if let timescale, timescale <= 0 {
                throw KeywordArgumentsError(description: "lr_scheduler_kwargs.timescale (\(timescale)) must be positive")
            }
            shape = .inverseSquareRoot(timescale: timescale)
        case .cosineWithMinLR:
            shape = .cosine(cycles: try reader.number("num_cycles") ?? 0.5, minimumRate: try reader.minimumRate(learningRate, schedule: lrSchedulerType))
        case .cosineWarmupWithMinLR:
            shape = .cosineWarmupWithMinimum(cycles: try reader.number("num_cycles") ?? 0.5,
                                             minimumRate: try reader.minimumRate(learningRate, schedule: lrSchedulerType),
                                             warmupStartRate: try reader.number("warmup_lr_rate"))
        case .warmupStableDecay:
            guard let decaySteps = try reader.integer("num_decay_steps") else {
                throw KeywordArgumentsError(description: "warmup_stable_decay needs lr_scheduler_kwargs.num_decay_steps "
                    + "(the length of the decay phase in optimizer steps), e.g. lr_scheduler_kwargs: {num_decay_steps: 100}")
            }
            let stableSteps = try reader.integer("num_stable_steps")
            for (name, count) in [("num_decay_steps", decaySteps), ("num_stable_steps", stableSteps ?? 0)] where count < 0 {
                throw KeywordArgumentsError(description: "lr_scheduler_kwargs.\(name) (\(count)) must not be negative")
            }
            shape = .warmupStableDecay(WarmupStableDecay(
                decaySteps: decaySteps, stableSteps: stableSteps,
                warmup: try reader.curve("warmup_type") ?? .linear, decay: try reader.curve("decay_type") ?? .cosine,
                minimumRatio: try reader.number("min_lr_ratio") ?? 0, cycles: try reader.number("num_cycles") ?? 0.5))
        }
        try reader.refuseUnread(of: "the \(lrSchedulerType.rawValue) schedule")
        return shape
    }

    /// The arguments a constant schedule was given, which transformers ignores (as Fledge does).
    public var ignoredSchedulerArguments: [String] {
        guard [.constant, .constantWithWarmup].contains(lrSchedulerType) else { return [] }
        return lrSchedulerKwargs?.entries.map(\.key) ?? []
    }
}

/// The arguments only schedules take.
extension KeywordArgumentReader {
    mutating func curve(_ name: String) throws(KeywordArgumentsError) -> WarmupStableDecay.Curve? {
        guard let value = take(name) else { return nil }
        let names = WarmupStableDecay.Curve.allCases.map(\.rawValue)
        guard case .string(let text) = value, let curve = WarmupStableDecay.Curve(rawValue: text) else {
            throw error(name, "must be one of \(names.joined(separator: ", ")), not \(value)")
        }
        return curve
    }

    /// `min_lr` (absolute) or `min_lr_rate` (a fraction of `learning_rate`): exactly one is required.
    mutating func minimumRate(_ learningRate: Double, schedule: LRSchedulerType) throws(KeywordArgumentsError) -> Double {
        switch (try number("min_lr"), try number("min_lr_rate")) {
        case (let minimum?, nil): return minimum / learningRate
        case (nil, let rate?): return rate
        case (.some, .some):
            throw KeywordArgumentsError(description: "\(schedule.rawValue) takes one of lr_scheduler_kwargs.min_lr and min_lr_rate, not both")
        case (nil, nil):
            throw KeywordArgumentsError(description: "\(schedule.rawValue) needs lr_scheduler_kwargs.min_lr (the final learning "
                + "rate) or min_lr_rate (a fraction of learning_rate), e.g. lr_scheduler_kwargs: {min_lr_rate: 0.1}")
        }
    }
}
