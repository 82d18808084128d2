import Foundation

/// Which keys each query may attend to in `scaledDotProductAttention`.
public struct AttentionMask: Sendable {
    /// Queries see only keys at or before their own position.
    public var causal: Bool
    /// Per key `[batch, keySeq]`: nonzero for a real token, 0 for padding; nil for none.
    public var keyPadding: [Float]?
    /// When set, a query sees at most this many most recent keys (Mistral's sliding window).
    public var slidingWindow: Int?

    public init(causal: Bool = true, keyPadding: [Float]? = nil, slidingWindow: Int? = nil) {
        self.causal = causal
        self.keyPadding = keyPadding
        self.slidingWindow = slidingWindow
    }
}

/// The geometry of one attention call, shared by the forward and backward kernels.
struct AttentionGeometry: Sendable {
    let batch, querySeq, keySeq, queryHeads, keyHeads, headDim: Int
    let scale: Float
    let mask: AttentionMask
    /// The soft cap of the scaled scores, or nil for none.
    var softCap: Float? = nil
    /// Whether the forward rounds the attention weights to bfloat16 before `P·V`, as PyTorch's CPU
    /// flash-attention kernel does under bfloat16 autocast (set from `Autocast`).
    var bfloat16Weights = false

    /// Queries are the last `querySeq` positions of the `keySeq` keys (a KV-cache step).
    var queryOffset: Int { keySeq - querySeq }

    /// The keys `[first, end)` that query `i` of batch row `b` may see, before padding.
    @inline(__always)
    func keyRange(query i: Int) -> Range<Int> {
        let position = i + queryOffset
        let end = mask.causal ? Swift.min(position + 1, keySeq) : keySeq
        let first = mask.slidingWindow.map { Swift.max(0, position - $0 + 1) } ?? 0
        return first..<Swift.max(first, end)
    }

    @inline(__always)
    func isPadding(batch b: Int, key j: Int) -> Bool {
        guard let padding = mask.keyPadding else { return false }
        return padding[b * keySeq + j] == 0
    }
}

extension Tensor {
    /// Scaled dot-product attention, `softmax(q·kᵀ · scale + mask) · v` (with `softCap`, the scaled
    /// scores s are soft-capped first: `softCap · tanh(s / softCap)`, Gemma 2's attention), for
    /// `query [batch, qSeq, qHeads, headDim]` and `key`/`value [batch, kSeq, kvHeads, headDim]`
    /// (grouped-query: query head `h` reads key head `h / (qHeads / kvHeads)`).
    ///
    /// The queries are the last `qSeq` of the `kSeq` positions, so a decoding step passes the
    /// new token's query with the KV cache's keys and values. Rows that may see no key (left
    /// padding) output zeros. Saves one log-sum-exp per query row; the backward recomputes the
    /// attention weights one query row at a time and never holds the whole attention matrix.
    public static func scaledDotProductAttention(
        query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask = AttentionMask(), scale: Float? = nil,
        softCap: Float? = nil
    ) -> Tensor {
        precondition(query.rank == 4 && key.rank == 4 && value.rank == 4,
                     "attention expects [batch, seq, heads, headDim] tensors, got \(query.shape), \(key.shape), \(value.shape)")
        precondition(key.shape == value.shape, "attention: key \(key.shape) and value \(value.shape) differ")
        let (batch, querySeq, queryHeads, headDim) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (keySeq, keyHeads) = (key.shape[1], key.shape[2])
        precondition(key.shape[0] == batch && key.shape[3] == headDim,
                     "attention: key \(key.shape) does not match query \(query.shape)")
        precondition(keyHeads > 0 && queryHeads % keyHeads == 0,
                     "attention: \(queryHeads) query heads are not a multiple of \(keyHeads) key/value heads")
        precondition(keySeq >= querySeq, "attention: \(querySeq) queries but only \(keySeq) keys")
        precondition(softCap.map { $0 > 0 } ?? true, "attention: softCap must be > 0, got \(softCap ?? 0)")
        if let padding = mask.keyPadding {
            precondition(padding.count == batch * keySeq, "attention: key padding has \(padding.count) entries, expected \(batch * keySeq)")
        }
        let geometry = AttentionGeometry(
            batch: batch, querySeq: querySeq, keySeq: keySeq, queryHeads: queryHeads, keyHeads: keyHeads,
            headDim: headDim, scale: scale ?? 1 / Float(headDim).squareRoot(), mask: mask, softCap: softCap,
            bfloat16Weights: Autocast.isBFloat16)
        let q = query.contiguous(), k = key.withUnitLastStride(), v = value.withUnitLastStride()
        let out = Tensor(uninitializedShape: query.shape)
        let logSumExp = Tensor(uninitializedShape: [batch, queryHeads, querySeq])
        AttentionKernel.forward(geometry, q: q, k: k, v: v, out: out, logSumExp: logSumExp)
        return out.recording(
            [query, key, value],
            .attention(geometry, q: q.detached(), k: k.detached(), v: v.detached(), out: out.detached(), logSumExp: logSumExp))
    }

    /// `self` when its last dimension is unit-stride (any other strides are fine), else a copy.
    func withUnitLastStride() -> Tensor { strides.last == 1 ? self : contiguous() }
}
