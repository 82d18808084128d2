import Foundation

/// The frequencies of a rotary position embedding: `angle = position · inverseFrequencies[i]`,
/// with cos and sin multiplied by `attentionScaling` (1 except for YaRN-style scalings).
public struct RotaryTable: Sendable {
    /// One inverse frequency per rotated pair (head_dim / 2 of them).
    public let inverseFrequencies: [Float]
    /// The factor applied to cos and sin.
    public let attentionScaling: Float

    public init(inverseFrequencies: [Float], attentionScaling: Float = 1) {
        self.inverseFrequencies = inverseFrequencies
        self.attentionScaling = attentionScaling
    }

    /// The default table of Llama and most models: `1 / theta^(2i / headDim)`.
    public init(headDim: Int, theta: Double) {
        precondition(headDim % 2 == 0, "rotary embedding needs an even head_dim, got \(headDim)")
        inverseFrequencies = (0..<headDim / 2).map { Float(1 / Foundation.pow(theta, Double(2 * $0) / Double(headDim))) }
        attentionScaling = 1
    }

    /// The rotated dimension (twice the number of frequencies): the first `headDim` dims of each
    /// head rotate, any after them pass through (partial rotary embeddings, as Phi-3's).
    public var headDim: Int { 2 * inverseFrequencies.count }

    /// Fills `cos` and `sin` (headDim/2 each) for one position, in float32 as transformers does.
    @inline(__always)
    func angles(position: Int, cos: UnsafeMutablePointer<Float>, sin: UnsafeMutablePointer<Float>) {
        for i in 0..<inverseFrequencies.count {
            let angle = Float(position) * inverseFrequencies[i]
            cos[i] = Foundation.cos(angle) * attentionScaling
            sin[i] = Foundation.sin(angle) * attentionScaling
        }
    }
}

extension Tensor {
    /// Rotary position embedding of `x` laid out `[batch, seq, heads, headDim]` at the given
    /// position of each token (`positions.count == batch · seq`), in transformers' half-split
    /// convention: `x · cos + rotate_half(x) · sin` over the first `table.headDim` dims of each
    /// head; the dims after them (when the head is wider than the table) pass through unchanged.
    public static func rotaryEmbedding(_ x: Tensor, positions: [Int], table: RotaryTable) -> Tensor {
        precondition(x.rank == 4, "rotaryEmbedding expects [batch, seq, heads, headDim], got \(x.shape)")
        precondition(x.shape[3] >= table.headDim, "rotaryEmbedding: head_dim \(x.shape[3]) but the table rotates \(table.headDim)")
        precondition(positions.count == x.shape[0] * x.shape[1],
                     "rotaryEmbedding: \(positions.count) positions for \(x.shape[0] * x.shape[1]) tokens")
        let input = x.contiguous()
        let out = Tensor(uninitializedShape: x.shape)
        RotaryKernel.rotate(input.pointer, into: out.pointer, shape: x.shape, positions: positions, table: table, inverse: false)
        return out.recording([x], .rotary(positions: positions, table: table))
    }
}

enum RotaryKernel {
    /// Rotates each (x[i], x[i + R/2]) pair of the first R = `table.headDim` dims of each head by
    /// +angle, or by −angle when `inverse` (the backward); the head's other dims are copied.
    /// cos and sin are computed once per distinct position when positions repeat (a batch of
    /// sequences), else once per token.
    static func rotate(
        _ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>, shape: [Int],
        positions: [Int], table: RotaryTable, inverse: Bool
    ) {
        let heads = shape[2], width = shape[3], dim = table.headDim, half = dim / 2
        let direction: Float = inverse ? -1 : 1
        let distinct = (positions.max() ?? 0) + 1
        let shared = positions.allSatisfy { $0 >= 0 } && distinct <= positions.count
        let trig = TensorStorage(count: (shared ? distinct : positions.count) * dim)
        Parallel.forRanges(shared ? distinct : positions.count, minChunk: 64) { range in
            for slot in range {
                let row = trig.pointer + slot * dim
                table.angles(position: shared ? slot : positions[slot], cos: row, sin: row + half)
            }
        }
        Parallel.forRanges(positions.count, minChunk: Swift.max(1, 2048 / Swift.max(heads * width, 1))) { tokens in
            for token in tokens {
                let cos = trig.pointer + (shared ? positions[token] : token) * dim, sin = cos + half
                for head in 0..<heads {
                    let base = (token * heads + head) * width
                    let xr = x + base, yr = y + base
                    for i in 0..<half {
                        let x1 = xr[i], x2 = xr[i + half], s = direction * sin[i]
                        yr[i] = x1 * cos[i] - x2 * s
                        yr[i + half] = x2 * cos[i] + x1 * s
                    }
                    for i in dim..<width { yr[i] = xr[i] }
                }
            }
        }
    }
}
