/// Walks up to three equally shaped strided views row by row (a row = the innermost
/// dimension), so element loops run over a pointer and a stride with no per-element
/// index arithmetic.
enum StridedRows {
    /// Calls `body(offsetA, offsetB, offsetC)` once per row, where offsets are element
    /// offsets into each operand; the row has `shape.last` elements stepping by each
    /// operand's last stride.
    static func forEach(
        shape: [Int], _ stridesA: [Int], _ stridesB: [Int] = [], _ stridesC: [Int] = [],
        _ body: (Int, Int, Int) -> Void
    ) {
        let rank = shape.count
        if rank <= 1 {
            body(0, 0, 0)
            return
        }
        if Shape.count(shape) == 0 { return }
        let outer = rank - 1
        let sa = stridesA, sb = stridesB.isEmpty ? [Int](repeating: 0, count: rank) : stridesB
        let sc = stridesC.isEmpty ? [Int](repeating: 0, count: rank) : stridesC
        var index = [Int](repeating: 0, count: outer)
        var oa = 0, ob = 0, oc = 0
        let rows = Shape.count(Array(shape[0..<outer]))
        for _ in 0..<rows {
            body(oa, ob, oc)
            var axis = outer - 1
            while axis >= 0 {
                index[axis] += 1
                oa += sa[axis]; ob += sb[axis]; oc += sc[axis]
                if index[axis] < shape[axis] { break }
                oa -= sa[axis] * shape[axis]; ob -= sb[axis] * shape[axis]; oc -= sc[axis] * shape[axis]
                index[axis] = 0
                axis -= 1
            }
        }
    }
}

extension Tensor {
    /// This tensor if contiguous, else a contiguous copy (recorded for autograd).
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape)
        copyElements(into: out.pointer)
        return out.recording([self], .identity)
    }

    /// Copies the elements in row-major order into `destination`.
    func copyElements(into destination: UnsafeMutablePointer<Float>) {
        if isContiguous {
            destination.update(from: pointer, count: count)
            return
        }
        let inner = shape.last ?? 1
        let step = strides.last ?? 1
        let source = pointer
        var row = 0
        StridedRows.forEach(shape: shape, strides) { offset, _, _ in
            let from = source + offset
            let to = destination + row * inner
            for index in 0..<inner { to[index] = from[index * step] }
            row += 1
        }
    }
}
