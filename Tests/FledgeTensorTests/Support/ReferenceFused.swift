import Foundation

/// Float64 references of the fused ops, written the plain way (as transformers does).
enum ReferenceFused {
    static func rmsNorm(_ x: DTensor, _ weight: DTensor, eps: Double) -> DTensor {
        let axis = x.rank - 1
        return x.alongAxis(axis) { line in
            let r = 1 / (line.reduce(0) { $0 + $1 * $1 } / Double(line.count) + eps).squareRoot()
            return line.enumerated().map { $0.element * r * weight.values[$0.offset] }
        }
    }

    /// `x [B, T, H, D]`, positions `[B·T]`, half-split rotation.
    static func rope(_ x: DTensor, positions: [Int], theta: Double) -> DTensor {
        let d = x.shape[3], half = d / 2
        var out = x
        for flat in 0..<x.count {
            let index = x.index(flat)
            let (b, t, i) = (index[0], index[1], index[3])
            let frequency = 1 / pow(theta, Double(2 * (i % half)) / Double(d))
            let angle = Double(positions[b * x.shape[1] + t]) * frequency
            var partnerIndex = index
            partnerIndex[3] = i < half ? i + half : i - half
            let rotated = i < half ? -x[partnerIndex] : x[partnerIndex]
            out.values[flat] = x.values[flat] * cos(angle) + rotated * sin(angle)
        }
        return out
    }

    static func swiGLU(_ gate: DTensor, _ up: DTensor) -> DTensor {
        DTensor.zip(gate, up) { g, u in g * sigmoid(g) * u }
    }

    /// q `[B, Tq, Hq, D]`, k/v `[B, Tk, Hkv, D]`; queries are the last Tq positions; rows with
    /// no visible key output zero.
    static func attention(_ q: DTensor, _ k: DTensor, _ v: DTensor, keyMask: [Double], causal: Bool = true, window: Int? = nil) -> DTensor {
        let (batch, tq, hq, d) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (tk, hkv) = (k.shape[1], k.shape[2])
        let group = hq / hkv, offset = tk - tq, scale = 1 / Double(d).squareRoot()
        var out = DTensor.zeros(q.shape)
        let qv = q.values, kv = k.values, vv = v.values
        for b in 0..<batch {
            for h in 0..<hq {
                for i in 0..<tq {
                    let visible = (0..<tk).filter { j in
                        (!causal || j <= i + offset) && keyMask[b * tk + j] != 0 && (window.map { i + offset - j < $0 } ?? true)
                    }
                    guard !visible.isEmpty else { continue }
                    let qBase = ((b * tq + i) * hq + h) * d
                    let keyBase = { (j: Int) in ((b * tk + j) * hkv + h / group) * d }
                    let scores = visible.map { j in (0..<d).reduce(0.0) { $0 + qv[qBase + $1] * kv[keyBase(j) + $1] } * scale }
                    let lse = logSumExp(scores)
                    for (slot, j) in visible.enumerated() {
                        let p = exp(scores[slot] - lse)
                        for e in 0..<d { out.values[qBase + e] += p * vv[keyBase(j) + e] }
                    }
                }
            }
        }
        return out
    }

    /// Returns `[2, N]`: log p(target) and the entropy of each row.
    static func selectiveLogSoftmax(_ hidden: DTensor, _ weight: DTensor, targets: [Int], temperature: Double) -> DTensor {
        let logits = DTensor.matmul(hidden, weight.transposedLastTwo()).map { $0 / temperature }
        let n = hidden.shape[0], vocab = weight.shape[0]
        var out = DTensor.zeros([2, n])
        for row in 0..<n {
            let line = (0..<vocab).map { logits[[row, $0]] }
            let lse = logSumExp(line)
            out[[0, row]] = line[targets[row]] - lse
            out[[1, row]] = -line.reduce(0) { $0 + exp($1 - lse) * ($1 - lse) }
        }
        return out
    }
}
