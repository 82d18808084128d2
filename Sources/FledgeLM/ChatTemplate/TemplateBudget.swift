/// The work one render has done, counted in steps against ``TemplateLimit/steps``: the renderer
/// counts statements, expressions and loop iterations, and the operations count the items and
/// text they visit, so that every render ends within a bounded time.
final class TemplateBudget {
    /// How many bytes of text read or built count as one step.
    static let bytesPerStep = 64

    /// The steps taken so far.
    private(set) var steps = 0

    /// Counts `count` steps of work done at `position`; past the limit that is an error there.
    func charge(_ count: Int, at position: SourcePosition) throws(TemplateError) {
        let (total, overflow) = steps.addingReportingOverflow(count)
        steps = overflow ? .max : total
        try TemplateLimit.steps.check(steps, at: position,
            "rendering takes more than \(TemplateLimit.steps.value) steps (statements, expressions, loop iterations, items and text "
                + "visited); the template loops too long here, over too large a range or list")
    }

    /// Counts the steps of reading or building `bytes` bytes of text at `position`.
    func charge(bytes: Int, at position: SourcePosition) throws(TemplateError) {
        try charge(1 + bytes / Self.bytesPerStep, at: position)
    }
}
