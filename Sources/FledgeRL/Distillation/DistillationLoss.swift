import FledgeLM
import FledgeTensor

/// The loss of TRL's `DistillationTrainer._compute_loss`: the generalized JSD (``Tensor/generalizedJSD``)
/// between the student's and the frozen teacher's next-token distributions at every completion
/// token, summed and divided by the completion tokens of the whole generation batch (TRL's
/// `num_items_in_batch`), so the micro-batches of a step add up to the step's token mean; and the
/// student's mean entropy over the micro-batch's tokens (`entropy`). Both models score the whole sequences; in
/// a multi-turn completion only the student's own tokens count (TRL's `completion_mask * tool_mask`).
public struct DistillationLoss: Sendable {
    public let beta: Double
    public let temperature: Double
    /// The most logits (rows × vocabulary) of each model that one block of ``Tensor/generalizedJSD``
    /// holds: larger blocks make the output projections' GEMMs more efficient (each packs the whole
    /// `[V, H]` head for the block's rows), smaller ones hold less memory.
    public let chunkElements: Int

    public init(beta: Double, temperature: Double, chunkElements: Int = DistillationLoss.defaultChunkElements) {
        self.beta = beta
        self.temperature = temperature
        self.chunkElements = chunkElements
    }

    /// 4M logits per block: 85 rows of a 49,152-token vocabulary (16 MB per `[rows, V]` buffer).
    public static let defaultChunkElements = 1 << 22

    /// The loss of a resolved config (`beta`, `temperature`).
    public init(config: DistillationConfig) {
        self.init(beta: config.beta, temperature: config.temperature)
    }

    /// The loss of completions `completionIds[i]` of `promptIds[i]` (with autograd to the student)
    /// over `batchTokens` completion tokens, and its metrics. `lossTokens[i]`, when given, marks the tokens of
    /// completion `i` in the loss (an episode's tool results are not); nil keeps them all.
    public func compute(student: LanguageModel, teacher: LanguageModel, promptIds: [[Int]], completionIds: [[Int]],
                        lossTokens: [[Bool]?]? = nil, batchTokens: Int) -> (loss: Tensor, metrics: [String: Double]) {
        let sequences = zip(promptIds, completionIds).map { $0 + $1 }
        let scoredFrom = promptIds.map(\.count)
        var studentHidden = student.scoredHiddenStates(sequences, scoredFrom: scoredFrom)
        var teacherHidden = Tensor.withoutGrad { teacher.scoredHiddenStates(sequences, scoredFrom: scoredFrom) }
        if let lossTokens, lossTokens.contains(where: { $0 != nil }) {
            let flags = zip(lossTokens, completionIds).flatMap { mask, ids in mask ?? Array(repeating: true, count: ids.count) }
            let kept = flags.indices.filter { flags[$0] }
            studentHidden = studentHidden.indexSelect(kept, indexShape: [kept.count])
            teacherHidden = Tensor.withoutGrad { teacherHidden.indexSelect(kept, indexShape: [kept.count]) }
        }
        let result = Tensor.generalizedJSD(
            studentHidden: studentHidden, studentWeight: student.head.weight, studentSoftCap: student.head.softCap,
            teacherHidden: teacherHidden, teacherWeight: teacher.head.weight, teacherSoftCap: teacher.head.softCap,
            beta: Float(beta), temperature: Float(temperature), chunkElements: chunkElements)
        let tokens = result.entropy.count
        let loss = result.divergence.sum() / Float(Swift.max(batchTokens, 1))
        let entropy = tokens > 0 ? result.entropy.reduce(0) { $0 + Double($1) } / Double(tokens) : 0
        return (loss, ["entropy": entropy])
    }
}
