import FledgeTensor
import Synchronization

/// NEFTune (arXiv 2310.05914) as transformers 5.25 applies it (`neftune_post_forward_hook` on the
/// input embeddings): in training passes only, uniform noise in `±alpha / √(L · d)` is added to the
/// embeddings `[batch, L, d]`, where `L` is the pass's sequence length — the padded length of a
/// batch, or every token of a padding-free pass — and `d` the hidden size. Evaluation, scoring
/// without gradients and generation see the embeddings unchanged, unless `noisesPassesWithoutGrad`:
/// passes without gradients through the trained model that TRL runs in training mode (DPO's and KTO's
/// reference with adapters off and KTO's KL pass; GRPO's, RLOO's and distillation's sampling and old
/// and reference log-probs), where the hook noises them too.
///
/// Two ways to draw: by default one generator runs through the pass (and continues across passes).
/// With `rowKeys`, each token's noise comes from its own generator, seeded by the noise's seed, its
/// row's key and its position id, so that a row's noise does not depend on which rows share its pass,
/// how they are padded or in which order they run (generation's continuous batching, micro-batches
/// regrouped or with rows skipped); such passes must be ordinary padded rows, not flat regrouped tokens.
/// `length` stands in for the pass's own length when Fledge pads a pass differently from TRL (a GRPO
/// micro-batch padded to its own longest row where TRL pads the whole generation batch).
///
/// Departure: the noise is drawn from Fledge's seeded generator, not PyTorch's, so its values
/// differ from a TRL run's; its distribution is the same.
public struct NEFTuneNoise: Sendable {
    /// One noised pass, as a model's ``NEFTunePassLog`` records it.
    public struct Pass: Sendable, Equatable {
        /// The pass's rows and length (the embeddings' shape `[rows, length, width]`).
        public let rows: Int
        public let length: Int
        /// The half-width of its noise: `alpha / √(L · width)` with `L` the `length` given, else the pass's.
        public let magnitude: Float
        /// The largest `|noise|` it added.
        public let largestNoise: Float
        /// Whether the pass recorded gradients.
        public let withGradients: Bool
    }

    /// The noise scale α (`neftune_noise_alpha`).
    public let alpha: Float
    /// Where the noise is drawn from without `rowKeys`; its state continues across passes.
    public var generator: SeededGenerator
    /// Whether passes without gradients are noised too (TRL's no-grad forwards in training mode).
    public let noisesPassesWithoutGrad: Bool
    /// TRL's `L` for these passes when it differs from the passes' own length; nil: their own.
    public let length: Int?
    /// The seed of keyed draws.
    private let seed: UInt64
    /// The keys of the rows of the passes to come, in order: each pass takes the next `batch` of them.
    /// Setting it starts again from the first. Nil: draw from `generator`.
    public var rowKeys: [UInt64]? {
        didSet { nextRow = 0 }
    }
    private var nextRow = 0

    public init(alpha: Float, seed: UInt64, noisesPassesWithoutGrad: Bool = false, rowKeys: [UInt64]? = nil,
                length: Int? = nil) {
        self.alpha = alpha
        self.seed = seed
        generator = SeededGenerator(seed: seed)
        self.noisesPassesWithoutGrad = noisesPassesWithoutGrad
        self.rowKeys = rowKeys
        self.length = length
    }

    /// Whether a pass run now is noised: α > 0, and the pass records gradients or passes without them are noised.
    public var isActive: Bool { alpha > 0 && (GradMode.isTraining || noisesPassesWithoutGrad) }

    /// Whether a pass run now is noised with `rowKeys` (and so must be ordinary padded rows).
    public var isKeyedAndActive: Bool { isActive && rowKeys != nil }

    /// The half-width of the noise for embeddings of `length` tokens of `width` values each.
    public func magnitude(length: Int, width: Int) -> Float {
        alpha / Float(length * width).squareRoot()
    }

    /// `embeddings` `[batch, length, hidden]` with the noise added when ``isActive``; `positions` are the
    /// tokens' position ids (`batch · length`), which keyed draws read. A noised pass is recorded in `log`.
    mutating func apply(to embeddings: Tensor, positions: [Int], log: NEFTunePassLog? = nil) -> Tensor {
        guard isActive else { return embeddings }
        let (rows, passLength, width) = (embeddings.shape[0], embeddings.shape[1], embeddings.shape[2])
        let bound = magnitude(length: length ?? passLength, width: width)
        let noise: Tensor
        if let rowKeys {
            precondition(nextRow + rows <= rowKeys.count,
                         "NEFTune noise has \(rowKeys.count - nextRow) row keys left for a pass of \(rows) rows")
            let keys = Array(rowKeys[nextRow..<nextRow + rows])
            nextRow += rows
            let seed = seed
            noise = Tensor(shape: embeddings.shape) { buffer in
                for row in 0..<rows {
                    for token in 0..<passLength {
                        let at = row * passLength + token
                        var tokenGenerator = SeededGenerator(seed: Self.tokenSeed(seed, key: keys[row], position: positions[at]))
                        for i in at * width..<(at + 1) * width { buffer[i] = bound * (2 * tokenGenerator.nextUnitFloat() - 1) }
                    }
                }
            }
        } else {
            noise = Tensor.uniform(embeddings.shape, in: -bound..<bound, using: &generator)
        }
        if let log {
            log.record(Pass(rows: rows, length: passLength, magnitude: bound,
                            largestNoise: noise.toArray().reduce(0) { Swift.max($0, Swift.abs($1)) },
                            withGradients: GradMode.isTraining))
        }
        return embeddings + noise
    }

    /// The seed of one token's noise: a SplitMix64 step over the noise's seed, the row's key and the position.
    private static func tokenSeed(_ seed: UInt64, key: UInt64, position: Int) -> UInt64 {
        var generator = SeededGenerator(seed: (seed ^ (key &* 0x9E37_79B9_7F4A_7C15)) &+ UInt64(bitPattern: Int64(position)) &* 0xD1B5_4A32_D192_ED03)
        return generator.next()
    }
}

/// The passes NEFTune noised on a model whose ``PretrainedModel/neftunePassLog`` it is, in order: which
/// passes a trainer noises, with what half-width (tests check them against the passes TRL noises).
public final class NEFTunePassLog: Sendable {
    private let recorded = Mutex<[NEFTuneNoise.Pass]>([])

    public init() {}

    /// The passes noised so far.
    public var passes: [NEFTuneNoise.Pass] { recorded.withLock { $0 } }

    func record(_ pass: NEFTuneNoise.Pass) { recorded.withLock { $0.append(pass) } }
}
