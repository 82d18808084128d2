/// Dot product of two unit-stride float vectors, with eight independent partial sums so
/// that the loop vectorises (a single running sum would serialise on its additions).
@inline(__always)
func dotProduct(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
    var partial = SIMD8<Float>()
    var index = 0
    let rawA = UnsafeRawPointer(a), rawB = UnsafeRawPointer(b)
    let stride = MemoryLayout<Float>.stride
    while index + 8 <= count {
        let va = rawA.loadUnaligned(fromByteOffset: index * stride, as: SIMD8<Float>.self)
        let vb = rawB.loadUnaligned(fromByteOffset: index * stride, as: SIMD8<Float>.self)
        partial += va * vb
        index += 8
    }
    var total = partial.sum()
    while index < count {
        total += a[index] * b[index]
        index += 1
    }
    return total
}
