extension Tensor {
    /// SiLU(gate) · up, the gated activation of Llama-style MLPs, in one pass.
    public static func swiGLU(gate: Tensor, up: Tensor) -> Tensor {
        precondition(gate.shape == up.shape, "swiGLU: gate \(gate.shape) and up \(up.shape) must have the same shape")
        let g = gate.contiguous(), u = up.contiguous()
        let out = Tensor(uninitializedShape: gate.shape)
        let pg = g.pointer, pu = u.pointer, py = out.pointer
        Parallel.forRanges(out.count, minChunk: 16_384) { range in
            for i in range { py[i] = pg[i] * UnaryKernel.sigmoid(pg[i]) * pu[i] }
        }
        return out.recording([gate, up], .swiGLU(gate: g.detached(), up: u.detached()))
    }
}

enum SwiGLUKernel {
    /// d gate = g · up · σ(gate)(1 + gate(1 − σ(gate))), d up = g · SiLU(gate).
    static func backward(grad: Tensor, gate: Tensor, up: Tensor, needed: [Bool]) -> [Tensor?] {
        let g = grad.contiguous()
        let dGate = needed[0] ? Tensor(uninitializedShape: gate.shape) : nil
        let dUp = needed[1] ? Tensor(uninitializedShape: up.shape) : nil
        let pg = g.pointer, pgate = gate.pointer, pup = up.pointer
        let dg = dGate?.pointer, du = dUp?.pointer
        Parallel.forRanges(gate.count, minChunk: 16_384) { range in
            for i in range {
                let s = UnaryKernel.sigmoid(pgate[i])
                dg?[i] = pg[i] * pup[i] * s * (1 + pgate[i] * (1 - s))
                du?[i] = pg[i] * pgate[i] * s
            }
        }
        return [dGate, dUp]
    }
}
