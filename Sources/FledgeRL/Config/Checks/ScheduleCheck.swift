extension ConfigCheck {
    /// `lr_scheduler_kwargs` must make a schedule of `lr_scheduler_type` (the arguments its function
    /// takes, of the right types); the constant schedules' arguments are ignored, as transformers does,
    /// with a warning.
    static var learningRateSchedule: ConfigCheck {
        ConfigCheck { resolution in
            let training = resolution.config.training
            let keyPath: WritableKeyPath<Config, KeywordArguments?> = \.training.lrSchedulerKwargs
            do throws(KeywordArgumentsError) {
                _ = try training.learningRateShape()
            } catch {
                resolution.fail(keyPath, error.description)
            }
            let ignored = training.ignoredSchedulerArguments
            if !ignored.isEmpty {
                resolution.warn(keyPath, "the \(training.lrSchedulerType.rawValue) schedule takes no arguments; "
                    + "\(ignored.joined(separator: ", ")) \(ignored.count == 1 ? "is" : "are") ignored, as transformers ignores them")
            }
        }
    }
}
