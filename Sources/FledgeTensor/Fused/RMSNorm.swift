extension Tensor {
    /// Root-mean-square normalisation over the last dimension, as Llama's `RMSNorm`:
    /// `x / sqrt(mean(x²) + eps) * weight`. Saves the input and one inverse RMS per row; the output
    /// is not kept for the ops after it (the projections that read it), which make it again from
    /// those in the backward (``Recomputation``).
    public static func rmsNorm(_ x: Tensor, weight: Tensor, eps: Float) -> Tensor {
        let hidden = x.shape.last ?? 1
        precondition(weight.shape == [hidden], "rmsNorm: weight shape \(weight.shape) must be [\(hidden)] for input \(x.shape)")
        let input = x.contiguous(), w = weight.contiguous()
        let rows = x.count / Swift.max(hidden, 1)
        let out = Tensor(uninitializedShape: x.shape)
        let inverseRMS = Tensor(uninitializedShape: [rows])
        let px = input.pointer, pw = w.pointer, py = out.pointer, pr = inverseRMS.pointer
        Parallel.forRanges(rows, minChunk: RMSNormKernel.minChunk(hidden)) { range in
            for row in range {
                let xr = px + row * hidden
                var squares: Float = 0
                for j in 0..<hidden { squares += xr[j] * xr[j] }
                let r = 1 / (squares / Float(hidden) + eps).squareRoot()
                pr[row] = r
                RMSNormKernel.scale(row: xr, by: r, weight: pw, into: py + row * hidden, hidden)
            }
        }
        let (savedInput, savedWeight) = (input.detached(), w.detached())
        return out.recording([x, weight], .rmsNorm(savedInput, weight: savedWeight, inverseRMS: inverseRMS))
            .recomputable { RMSNormKernel.output(input: savedInput, weight: savedWeight, inverseRMS: inverseRMS) }
    }
}

enum RMSNormKernel {
    /// Rows per chunk of work: about 4096 elements.
    static func minChunk(_ hidden: Int) -> Int { Swift.max(1, 4096 / Swift.max(hidden, 1)) }

    /// `y = x · r · w` over one row: the forward's last pass, and the whole of its recomputation.
    @inline(__always)
    static func scale(row x: UnsafePointer<Float>, by r: Float, weight w: UnsafePointer<Float>,
                      into y: UnsafeMutablePointer<Float>, _ hidden: Int) {
        for j in 0..<hidden { y[j] = x[j] * r * w[j] }
    }

    /// The output of `rmsNorm` made again from its saved input, weight and inverse RMS: the same
    /// float operations as the forward, so the same values bit for bit.
    static func output(input: Tensor, weight: Tensor, inverseRMS: Tensor) -> Tensor {
        let hidden = weight.count
        let out = Tensor(uninitializedShape: input.shape)
        let px = input.pointer, pw = weight.pointer, py = out.pointer, pr = inverseRMS.pointer
        Parallel.forRanges(inverseRMS.count, minChunk: minChunk(hidden)) { range in
            for row in range { scale(row: px + row * hidden, by: pr[row], weight: pw, into: py + row * hidden, hidden) }
        }
        return out
    }

    /// dx = r · (g·w − x̂ · mean(g·w·x̂)) and dw = Σ_rows g · x̂, with x̂ = x · r.
    static func backward(
        grad: Tensor, input: Tensor, weight: Tensor, inverseRMS: Tensor, needed: [Bool]
    ) -> [Tensor?] {
        let hidden = weight.count, rows = inverseRMS.count
        let g = grad.contiguous()
        let pg = g.pointer, px = input.pointer, pw = weight.pointer, pr = inverseRMS.pointer
        var dx: Tensor? = nil, dw: Tensor? = nil
        if needed[0] {
            let out = Tensor(uninitializedShape: input.shape)
            let pd = out.pointer
            Parallel.forRanges(rows, minChunk: minChunk(hidden)) { range in
                for row in range {
                    let gr = pg + row * hidden, xr = px + row * hidden, dr = pd + row * hidden
                    let r = pr[row]
                    var dot: Float = 0
                    for j in 0..<hidden { dot += gr[j] * pw[j] * xr[j] * r }
                    let meanDot = dot / Float(hidden)
                    for j in 0..<hidden { dr[j] = r * (gr[j] * pw[j] - xr[j] * r * meanDot) }
                }
            }
            dx = out
        }
        if needed[1] {
            let out = Tensor.zeros([hidden])
            let pd = out.pointer
            for row in 0..<rows {
                let gr = pg + row * hidden, xr = px + row * hidden
                let r = pr[row]
                for j in 0..<hidden { pd[j] += gr[j] * xr[j] * r }
            }
            dw = out
        }
        return [dx, dw]
    }
}
