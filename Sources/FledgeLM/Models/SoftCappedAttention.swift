import FledgeTensor

extension Tensor {
    /// Attention whose scores are soft-capped before the mask and softmax (Gemma 2's
    /// `attn_logit_softcapping`): `softmax(cap · tanh(q·kᵀ · scale / cap) + mask) · v`, for the
    /// shapes of `scaledDotProductAttention` (`query [batch, qSeq, qHeads, headDim]`, `key` and
    /// `value [batch, kSeq, kvHeads, headDim]`, the queries the last `qSeq` positions), with the
    /// same mask. Built from differentiable operations, it holds the `[batch, heads, qSeq, kSeq]`
    /// scores. Rows that may see no key (left padding) attend uniformly instead of outputting zeros;
    /// their outputs are never read.
    static func softCappedAttention(query: Tensor, key: Tensor, value: Tensor, mask: AttentionMask, scale: Float,
                                    cap: Float) -> Tensor {
        let (batch, querySeq, heads, headDim) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        let (keySeq, kvHeads) = (key.shape[1], key.shape[2])
        let group = heads / kvHeads
        /// `[batch, kSeq, kvHeads, headDim]` → `[batch, heads, kSeq, headDim]`, each key head repeated for its group.
        func repeated(_ x: Tensor) -> Tensor {
            x.reshaped([batch, keySeq, kvHeads, 1, headDim]).expanded(to: [batch, keySeq, kvHeads, group, headDim])
                .reshaped([batch, keySeq, heads, headDim]).permuted([0, 2, 1, 3])
        }
        let q = query.permuted([0, 2, 1, 3])
        let scores = q.matmul(repeated(key).transposed()) * (scale / cap)
        let capped = scores.tanh() * cap
        let blocked = Tensor(shape: [batch, 1, querySeq, keySeq]) { out in
            let offset = keySeq - querySeq
            for b in 0..<batch {
                for i in 0..<querySeq {
                    let position = i + offset
                    for j in 0..<keySeq {
                        let future = mask.causal && j > position
                        let outside = mask.slidingWindow.map { j <= position - $0 } ?? false
                        let padding = mask.keyPadding.map { $0[b * keySeq + j] == 0 } ?? false
                        out[(b * querySeq + i) * keySeq + j] = future || outside || padding ? 1 : 0
                    }
                }
            }
        }
        let weights = capped.maskedFill(blocked, -Float.greatestFiniteMagnitude).softmax(axis: -1)
        return weights.matmul(repeated(value)).permuted([0, 2, 1, 3])
    }
}
