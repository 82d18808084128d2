/// The activation applied to the gate of a gated linear unit `act(gate) · up`.
public enum GateActivation: Sendable {
    /// SiLU: SwiGLU (Llama-shaped models).
    case silu
    /// The tanh approximation of GELU (PyTorch's `gelu(approximate="tanh")`, transformers'
    /// `gelu_pytorch_tanh`): GeGLU (Gemma).
    case geluTanh
}

extension Tensor {
    /// act(gate) · up, the gated activation of a gated MLP, in one pass; the backward recomputes the
    /// activation from the saved gate and up. The output is not kept for the ops after it (the down
    /// projection), which make it again from gate and up in the backward (``Recomputation``).
    public static func gatedLinearUnit(gate: Tensor, up: Tensor, activation: GateActivation) -> Tensor {
        precondition(gate.shape == up.shape, "gatedLinearUnit: gate \(gate.shape) and up \(up.shape) must have the same shape")
        let g = gate.contiguous().detached(), u = up.contiguous().detached()
        return GatedLinearUnitKernel.forward(activation, gate: g, up: u)
            .recording([gate, up], .gatedLinearUnit(activation, gate: g, up: u))
            .recomputable { GatedLinearUnitKernel.forward(activation, gate: g, up: u) }
    }

    /// SiLU(gate) · up, the gated activation of Llama-style MLPs, in one pass.
    public static func swiGLU(gate: Tensor, up: Tensor) -> Tensor { gatedLinearUnit(gate: gate, up: up, activation: .silu) }

    /// GELU-tanh(gate) · up, the gated activation of Gemma's MLP, in one pass.
    public static func geGLU(gate: Tensor, up: Tensor) -> Tensor { gatedLinearUnit(gate: gate, up: up, activation: .geluTanh) }
}

enum GatedLinearUnitKernel {
    /// act(gate) · up of contiguous `gate` and `up`, without autograd: the forward, and its
    /// recomputation in the backward (the same kernel over the same chunks, so the same values).
    static func forward(_ activation: GateActivation, gate: Tensor, up: Tensor) -> Tensor {
        let out = Tensor(uninitializedShape: gate.shape)
        let pg = gate.pointer, pu = up.pointer, py = out.pointer
        Parallel.forRanges(out.count, minChunk: 16_384) { range in
            let start = range.lowerBound
            VectorMath.gatedLinearUnitForward(activation, pg + start, pu + start, py + start, range.count)
        }
        return out
    }

    /// The gradients of gate and up (see `VectorMath.gatedLinearUnitBackward`).
    static func backward(_ activation: GateActivation, grad: Tensor, gate: Tensor, up: Tensor, needed: [Bool]) -> [Tensor?] {
        let g = grad.contiguous()
        let dGate = needed[0] ? Tensor(uninitializedShape: gate.shape) : nil
        let dUp = needed[1] ? Tensor(uninitializedShape: up.shape) : nil
        let pg = g.pointer, pgate = gate.pointer, pup = up.pointer
        let dg = dGate?.pointer, du = dUp?.pointer
        Parallel.forRanges(gate.count, minChunk: 16_384) { range in
            let start = range.lowerBound
            VectorMath.gatedLinearUnitBackward(activation, pgate + start, pup + start, pg + start, dg.map { $0 + start },
                                               du.map { $0 + start }, range.count)
        }
        return [dGate, dUp]
    }
}
