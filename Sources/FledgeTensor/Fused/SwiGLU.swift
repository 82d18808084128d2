extension Tensor {
    /// SiLU(gate) · up, the gated activation of Llama-style MLPs, in one pass.
    public static func swiGLU(gate: Tensor, up: Tensor) -> Tensor {
        precondition(gate.shape == up.shape, "swiGLU: gate \(gate.shape) and up \(up.shape) must have the same shape")
        let g = gate.contiguous(), u = up.contiguous()
        let out = Tensor(uninitializedShape: gate.shape)
        let pg = g.pointer, pu = u.pointer, py = out.pointer
        Parallel.forRanges(out.count, minChunk: 16_384) { range in
            VectorMath.swiGLUForward(pg + range.lowerBound, pu + range.lowerBound, py + range.lowerBound, range.count)
        }
        return out.recording([gate, up], .swiGLU(gate: g.detached(), up: u.detached()))
    }
}

enum SwiGLUKernel {
    /// The gradients of gate and up (see `VectorMath.swiGLUBackward`).
    static func backward(grad: Tensor, gate: Tensor, up: Tensor, needed: [Bool]) -> [Tensor?] {
        let g = grad.contiguous()
        let dGate = needed[0] ? Tensor(uninitializedShape: gate.shape) : nil
        let dUp = needed[1] ? Tensor(uninitializedShape: up.shape) : nil
        let pg = g.pointer, pgate = gate.pointer, pup = up.pointer
        let dg = dGate?.pointer, du = dUp?.pointer
        Parallel.forRanges(gate.count, minChunk: 16_384) { range in
            let start = range.lowerBound
            VectorMath.swiGLUBackward(pgate + start, pup + start, pg + start, dg.map { $0 + start }, du.map { $0 + start }, range.count)
        }
        return [dGate, dUp]
    }
}
