/// Shape arithmetic shared by every op: element counts, strides, broadcasting, axes.
enum Shape {
    /// The element count of a shape the engine made or checked (see ``checkedCount(_:)``).
    static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// The element count of a shape read from a file or a config, or nil when a dimension is negative
    /// or the non-zero dimensions multiply past `Int.max` — so that the count and every stride of an
    /// accepted shape fit in an `Int`, even when a zero dimension makes the count 0.
    static func checkedCount(_ shape: [Int]) -> Int? {
        var product = 1
        var hasZero = false
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            if dimension == 0 {
                hasZero = true
                continue
            }
            let (next, overflow) = product.multipliedReportingOverflow(by: dimension)
            guard !overflow else { return nil }
            product = next
        }
        return hasZero ? 0 : product
    }

    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var step = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[axis] = step
            step *= shape[axis]
        }
        return strides
    }

    static func isContiguous(shape: [Int], strides: [Int]) -> Bool {
        var expected = 1
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if strides[axis] != expected { return false }
            expected *= shape[axis]
        }
        return true
    }

    /// The shape two operands broadcast to, NumPy-style (trailing dimensions aligned).
    static func broadcast(_ a: [Int], _ b: [Int]) -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for index in 0..<rank {
            let da = index < rank - a.count ? 1 : a[index - (rank - a.count)]
            let db = index < rank - b.count ? 1 : b[index - (rank - b.count)]
            precondition(
                da == db || da == 1 || db == 1,
                "shapes \(a) and \(b) do not broadcast: dimension \(index) is \(da) vs \(db)")
            result[index] = da == 1 ? db : da
        }
        return result
    }

    /// Strides that view a tensor of `shape`/`strides` as `target` (stride 0 on broadcast dims).
    static func broadcastStrides(shape: [Int], strides: [Int], to target: [Int]) -> [Int] {
        let lead = target.count - shape.count
        precondition(lead >= 0, "cannot broadcast shape \(shape) to \(target)")
        var result = [Int](repeating: 0, count: target.count)
        for axis in 0..<shape.count {
            if shape[axis] == target[lead + axis] {
                result[lead + axis] = shape[axis] == 1 ? 0 : strides[axis]
            } else {
                precondition(shape[axis] == 1, "cannot broadcast shape \(shape) to \(target)")
            }
        }
        return result
    }

    /// Resolves a possibly negative axis against `rank`.
    static func axis(_ axis: Int, rank: Int) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < max(rank, 1), "axis \(axis) is out of range for rank \(rank)")
        return resolved
    }

    /// Resolves a shape that may hold one `-1` (inferred) for `count` elements.
    static func resolve(_ shape: [Int], count: Int) -> [Int] {
        let inferred = shape.indices.filter { shape[$0] == -1 }
        precondition(inferred.count <= 1, "reshape to \(shape): at most one dimension may be -1")
        guard let hole = inferred.first else {
            precondition(Shape.count(shape) == count, "cannot reshape \(count) elements to \(shape)")
            return shape
        }
        let known = shape.enumerated().filter { $0.offset != hole }.reduce(1) { $0 * $1.element }
        precondition(known > 0 && count % known == 0, "cannot reshape \(count) elements to \(shape)")
        var result = shape
        result[hole] = count / known
        return result
    }
}
