/// Which pass of a round or step a NEFTune noise is for (GRPO, RLOO, distillation): mixed into the noise's
/// seed, so that the passes over the same rows draw apart, as TRL's hook draws afresh at every forward.
enum NEFTunePass: UInt64 {
    case sampling = 0x5A4D_504C_494E_4700
    case oldLogProbs = 0x4F4C_444C_4F47_5000
    case referenceLogProbs = 0x5245_464C_4F47_5000
    case loss = 0x4E45_4654_4C4F_5353

    /// TRL's padded length of the scoring and loss passes over rows of these prompts and completions: the
    /// longest prompt plus the longest completion (prompts are left-padded and completions right-padded over
    /// the generation batch, and micro-batches are slices of it).
    static func paddedLength(prompts: [[Int]], completions: [[Int]]) -> Int {
        (prompts.map(\.count).max() ?? 0) + (completions.map(\.count).max() ?? 0)
    }
}
