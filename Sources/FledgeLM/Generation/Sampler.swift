import Foundation
import FledgeTensor

/// How the next token is chosen, in transformers' order: repetition penalty, then temperature,
/// top-k, top-p and min-p, then a draw (or the argmax when `greedy`).
public struct SamplingOptions: Sendable {
    public var maxNewTokens = 64
    /// Take the most likely token at each step (deterministic; the other settings but the
    /// repetition penalty are ignored).
    public var greedy = false
    public var temperature: Float = 1
    /// Keep the `topK` most likely tokens (0: all).
    public var topK = 0
    /// Keep the smallest set of most likely tokens whose probability reaches `topP` (1: all).
    public var topP: Float = 1
    /// Drop tokens less likely than `minP` times the most likely one (0: none).
    public var minP: Float = 0
    /// transformers' `repetition_penalty`: logits of tokens already in the sequence (prompt
    /// included) are divided by it when positive, multiplied when negative (1: off).
    public var repetitionPenalty: Float = 1
    /// transformers' `suppress_tokens`: these ids are never chosen (their logits set to −∞ before
    /// the other filters); the reported log-probabilities stay those of the unmodified logits.
    public var suppressedTokenIds: [Int] = []
    /// Each sequence draws from its own generator seeded with `seed` and its index, so a row
    /// samples the same tokens whatever else is in the batch.
    public var seed: UInt64 = 0
    /// Generation stops at any of these ids (included in the output); empty: the model's
    /// generation_config.json ids, unless `ignoreEOS`.
    public var eosTokenIds: [Int]? = nil
    public var ignoreEOS = false
    /// Decode with llama.cpp's integer products where the base is Q8_0 or Q4_0
    /// (`Tensor.withQuantizedActivations`: each decoding step's activations rounded to 8 bits per
    /// 32-value block, as llama.cpp decodes); false keeps the exact float products that scoring
    /// and training use. Default true, unless the environment sets `FLEDGE_EXACT_DECODING=1`.
    /// Float and other quantized bases decode exactly either way.
    public var quantizedActivations = ProcessInfo.processInfo.environment["FLEDGE_EXACT_DECODING"] != "1"

    public init() {}

    /// Defaults from a model's generation_config.json (greedy unless it sets `do_sample`).
    public init(_ config: GenerationConfig) {
        greedy = !config.doSample
        temperature = config.temperature
        topK = config.topK
        topP = config.topP
        minP = config.minP
        repetitionPenalty = config.repetitionPenalty
    }
}

/// Chooses tokens from one row of logits; holds the row's random generator and scratch space.
struct Sampler {
    let options: SamplingOptions
    var generator: SeededGenerator
    private var scratch: [Float] = []
    private var candidates: [Int] = []

    init(options: SamplingOptions, row: Int) {
        self.options = options
        generator = SeededGenerator(seed: Self.seed(options, row: row))
    }

    /// The seed of seed index `row`'s generator under `options`: `mixedSeed(options.seed, row)`, so that rows get
    /// unrelated streams (the completions of one prompt sample independently). Generation also keys the row's NEFTune
    /// noise with it, so each turn of an episode draws its own noise.
    static func seed(_ options: SamplingOptions, row: Int) -> UInt64 { mixedSeed(options.seed, UInt64(row)) }

    /// The next token and its log-probability under the model at this temperature
    /// (`log softmax(logits / T)`, T = 1 when greedy), before penalties and filters — what a
    /// trainer's scoring pass computes for the same token. One vectorised softmax pass in the
    /// common case (no penalty, no top-k).
    mutating func next(_ logits: UnsafeBufferPointer<Float>, history: [Int]) -> (token: Int, logProb: Float) {
        let vocab = logits.count
        let temperature = options.greedy || options.temperature == 0 ? 1 : options.temperature
        let scale = 1 / temperature
        var work = scratch.count == vocab ? scratch : [Float](repeating: 0, count: vocab)
        scratch = []
        defer { scratch = work }
        let greedy = options.greedy || options.temperature == 0
        let topK = !greedy && options.topK > 0 && options.topK < vocab ? options.topK : 0
        // log Σ exp(logits / T) of the unmodified logits, computed apart only when they get modified.
        var rawLogSumExp: Float? = nil
        let token: Int = work.withUnsafeMutableBufferPointer { buffer in
            _ = buffer.initialize(from: logits)
            if options.repetitionPenalty != 1 || topK > 0 || !options.suppressedTokenIds.isEmpty {
                rawLogSumExp = RowSoftmax.inPlace(buffer, scale: scale)
                _ = buffer.initialize(from: logits)
            }
            if options.repetitionPenalty != 1 {
                let penalty = options.repetitionPenalty
                for id in Set(history) where id >= 0 && id < vocab {
                    buffer[id] = buffer[id] < 0 ? buffer[id] * penalty : buffer[id] / penalty
                }
            }
            for id in options.suppressedTokenIds where id >= 0 && id < vocab { buffer[id] = -.infinity }
            if greedy {
                let best = Self.argmax(UnsafeBufferPointer(buffer))
                if rawLogSumExp == nil { rawLogSumExp = RowSoftmax.inPlace(buffer, scale: scale) }
                return best
            }
            if topK > 0 {
                // Keep values at least the k-th largest (ties kept, as torch.topk's threshold does).
                let floor = kthLargest(UnsafeBufferPointer(buffer), topK)
                for i in 0..<vocab where buffer[i] < floor { buffer[i] = -.infinity }
            }
            let logSumExp = RowSoftmax.inPlace(buffer, scale: scale)
            if rawLogSumExp == nil { rawLogSumExp = logSumExp }
            return draw(buffer)
        }
        return (token, logits[token] * scale - rawLogSumExp!)
    }

    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in 1..<values.count where values[i] > values[best] { best = i }
        return best
    }

    /// Filters the probabilities in `buffer` (top-p, then min-p) and draws from what is left.
    private mutating func draw(_ buffer: UnsafeMutableBufferPointer<Float>) -> Int {
        let vocab = buffer.count
        if options.topP < 1 { applyTopP(buffer) }
        if options.minP > 0 {
            var top: Float = 0
            for i in 0..<vocab { top = max(top, buffer[i]) }
            let threshold = options.minP * top
            for i in 0..<vocab where buffer[i] < threshold { buffer[i] = 0 }
        }
        var mass: Float = 0
        for i in 0..<vocab { mass += buffer[i] }
        let target = generator.nextUnitFloat() * mass
        var running: Float = 0
        var last = 0
        for i in 0..<vocab where buffer[i] > 0 {
            running += buffer[i]
            last = i
            if running > target { return i }
        }
        return last
    }

    /// transformers' TopPLogitsWarper: sorting ascending, drop tokens while the cumulative
    /// probability stays at most 1 − p (the most likely token always stays). Only the tokens
    /// that can be kept are sorted: a set of the most likely tokens holding at least p.
    private mutating func applyTopP(_ probs: UnsafeMutableBufferPointer<Float>) {
        let p = options.topP, vocab = probs.count
        var top: Float = 0
        for i in 0..<vocab { top = max(top, probs[i]) }
        var threshold = top
        var mass: Float = 0
        repeat {
            threshold *= 0.25
            candidates.removeAll(keepingCapacity: true)
            mass = 0
            for i in 0..<vocab where probs[i] >= threshold {
                candidates.append(i)
                mass += probs[i]
            }
        } while mass < p && threshold > 1e-30
        if mass < p {  // tiny probabilities: take everything nonzero
            candidates = (0..<vocab).filter { probs[$0] > 0 }
        }
        candidates.sort { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
        // Kept: the tokens whose mass before them (in descending order) is below p.
        var before: Float = 0
        var keep = Set<Int>()
        for id in candidates {
            if before >= p && !keep.isEmpty { break }
            keep.insert(id)
            before += probs[id]
        }
        for i in 0..<vocab where !keep.contains(i) { probs[i] = 0 }
    }

    /// The k-th largest value (by selection on a copy).
    private func kthLargest(_ values: UnsafeBufferPointer<Float>, _ k: Int) -> Float {
        var copy = Array(values)
        var low = 0, high = copy.count - 1, target = k - 1
        while low < high {
            let pivot = copy[(low + high) / 2]
            var i = low, j = high
            while i <= j {
                while copy[i] > pivot { i += 1 }
                while copy[j] < pivot { j -= 1 }
                if i <= j {
                    copy.swapAt(i, j)
                    i += 1
                    j -= 1
                }
            }
            if target <= j { high = j } else if target >= i { low = i } else { return copy[target] }
        }
        return copy[target]
    }
}
