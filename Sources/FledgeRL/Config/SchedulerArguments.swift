import FledgeNN

/// A schedule that `lr_scheduler_type` and `lr_scheduler_kwargs` do not make, with the reason.
public struct SchedulerArgumentsError: Error, Sendable, CustomStringConvertible {
    /// What is wrong and how to fix it.
    public let description: String
}

extension TrainingArguments {
    /// The schedule's shape from `lr_scheduler_type` and `lr_scheduler_kwargs`, read as transformers'
    /// `get_scheduler` reads them: each schedule takes its function's arguments and no others, and the
    /// two constant schedules ignore any (`ignoredSchedulerArguments` names them for a warning).
    public func learningRateShape() throws(SchedulerArgumentsError) -> LearningRateShape {
        var reader = SchedulerArgumentReader(arguments: lrSchedulerKwargs?.entries ?? [], type: lrSchedulerType)
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
                throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.lr_end (\(end)) must be smaller than "
                    + "learning_rate (\(learningRate)): the polynomial schedule decays from learning_rate to lr_end")
            }
            shape = .polynomial(endLearningRate: end, power: try reader.number("power") ?? 1)
        case .inverseSqrt:
            let timescale = try reader.integer("timescale")
            if let timescale, timescale <= 0 {
                throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.timescale (\(timescale)) must be positive")
            }
            shape = .inverseSquareRoot(timescale: timescale)
        case .cosineWithMinLR:
            shape = .cosine(cycles: try reader.number("num_cycles") ?? 0.5, minimumRate: try reader.minimumRate(learningRate))
        case .cosineWarmupWithMinLR:
            shape = .cosineWarmupWithMinimum(cycles: try reader.number("num_cycles") ?? 0.5,
                                             minimumRate: try reader.minimumRate(learningRate),
                                             warmupStartRate: try reader.number("warmup_lr_rate"))
        case .warmupStableDecay:
            guard let decaySteps = try reader.integer("num_decay_steps") else {
                throw SchedulerArgumentsError(description: "warmup_stable_decay needs lr_scheduler_kwargs.num_decay_steps "
                    + "(the length of the decay phase in optimizer steps), e.g. lr_scheduler_kwargs: {num_decay_steps: 100}")
            }
            let stableSteps = try reader.integer("num_stable_steps")
            for (name, count) in [("num_decay_steps", decaySteps), ("num_stable_steps", stableSteps ?? 0)] where count < 0 {
                throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.\(name) (\(count)) must not be negative")
            }
            shape = .warmupStableDecay(WarmupStableDecay(
                decaySteps: decaySteps, stableSteps: stableSteps,
                warmup: try reader.curve("warmup_type") ?? .linear, decay: try reader.curve("decay_type") ?? .cosine,
                minimumRatio: try reader.number("min_lr_ratio") ?? 0, cycles: try reader.number("num_cycles") ?? 0.5))
        }
        try reader.refuseUnread()
        return shape
    }

    /// The arguments a constant schedule was given, which transformers ignores (as Fledge does).
    public var ignoredSchedulerArguments: [String] {
        guard [.constant, .constantWithWarmup].contains(lrSchedulerType) else { return [] }
        return lrSchedulerKwargs?.entries.map(\.key) ?? []
    }
}

/// Reads a schedule's arguments by name, remembering which were read so that the rest can be refused.
private struct SchedulerArgumentReader {
    let arguments: [ConfigEntry]
    let type: LRSchedulerType
    var read: Set<String> = []

    mutating func number(_ name: String) throws(SchedulerArgumentsError) -> Double? {
        guard let value = take(name) else { return nil }
        guard let number = try? Double(configValue: value), number.isFinite else {
            throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.\(name) must be a finite number, not \(value)")
        }
        return number
    }

    mutating func integer(_ name: String) throws(SchedulerArgumentsError) -> Int? {
        guard let value = take(name) else { return nil }
        guard let integer = try? Int(configValue: value) else {
            throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.\(name) must be an integer, not \(value)")
        }
        return integer
    }

    mutating func curve(_ name: String) throws(SchedulerArgumentsError) -> WarmupStableDecay.Curve? {
        guard let value = take(name) else { return nil }
        let names = WarmupStableDecay.Curve.allCases.map(\.rawValue)
        guard case .string(let text) = value, let curve = WarmupStableDecay.Curve(rawValue: text) else {
            throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.\(name) must be one of \(names.joined(separator: ", ")), not \(value)")
        }
        return curve
    }

    /// `min_lr` (absolute) or `min_lr_rate` (a fraction of `learning_rate`): exactly one is required.
    mutating func minimumRate(_ learningRate: Double) throws(SchedulerArgumentsError) -> Double {
        switch (try number("min_lr"), try number("min_lr_rate")) {
        case (let minimum?, nil): return minimum / learningRate
        case (nil, let rate?): return rate
        case (.some, .some):
            throw SchedulerArgumentsError(description: "\(type.rawValue) takes one of lr_scheduler_kwargs.min_lr and min_lr_rate, not both")
        case (nil, nil):
            throw SchedulerArgumentsError(description: "\(type.rawValue) needs lr_scheduler_kwargs.min_lr (the final learning "
                + "rate) or min_lr_rate (a fraction of learning_rate), e.g. lr_scheduler_kwargs: {min_lr_rate: 0.1}")
        }
    }

    /// Refuses an argument no read asked for, as the schedule's Python function would.
    func refuseUnread() throws(SchedulerArgumentsError) {
        guard let extra = arguments.first(where: { !read.contains($0.key) }) else { return }
        let accepted = read.isEmpty ? "takes no arguments" : "takes " + read.sorted().joined(separator: ", ")
        throw SchedulerArgumentsError(description: "lr_scheduler_kwargs.\(extra.key) is not an argument of the "
            + "\(type.rawValue) schedule, which \(accepted)")
    }

    private mutating func take(_ name: String) -> ConfigValue? {
        read.insert(name)
        guard let value = arguments.first(where: { $0.key == name })?.value, value != .null else { return nil }
        return value
    }
}
