import Foundation

/// A 256-entry quantization map and a fast nearest-code lookup, for 8-bit optimizer state.
///
/// `signed` and `unsigned` are bitsandbytes' dynamic maps (`bitsandbytes.functional.create_dynamic_map`
/// with 7 exponent bits): per decade 10⁻⁶ … 10⁰, the midpoints of an even split of [0.1, 1] into
/// 2^i (signed, both signs) or 2^(i+1) (unsigned) parts, plus 0 and 1. They resolve small values
/// finely relative to the block's largest, which suits Adam's moments.
///
/// The boundaries come from a float32 `torch.linspace` (its scalar formula); PyTorch's vectorised
/// linspace rounds a few boundaries differently depending on the CPU's vector width, so the maps
/// bitsandbytes builds on different machines differ from these by up to 2 ulp in about 40 codes.
final class DynamicQuantizationMap: @unchecked Sendable {
    /// The codes in ascending order; a stored byte `q` stands for `codes[q]` times the block's scale.
    let codes: [Float]
    /// The codes (256 floats), then the midpoints between neighbouring codes (255 floats, and two
    /// +∞ so that a search may look past the last): immutable after `init`, read through a raw
    /// pointer in the quantization loops.
    private let table: UnsafeMutablePointer<Float>
    /// For each lookup bucket of float bit patterns (64 KiB), the number of midpoints below every
    /// value in the bucket: the search for the nearest code starts there.
    private let searchStarts: UnsafeMutablePointer<UInt8>

    /// bitsandbytes' signed dynamic map (the first moment's).
    static let signed = DynamicQuantizationMap(codes: dynamicCodes(signed: true))
    /// bitsandbytes' unsigned dynamic map (the second moment's).
    static let unsigned = DynamicQuantizationMap(codes: dynamicCodes(signed: false))

    /// A map of 256 ascending codes in [−1, 1].
    init(codes: [Float]) {
        precondition(codes.count == 256 && zip(codes, codes.dropFirst()).allSatisfy { $0 < $1 },
                     "a quantization map needs 256 ascending codes")
        self.codes = codes
        let midpoints = (0..<255).map { (codes[$0] + codes[$0 + 1]) / 2 }
        table = .allocate(capacity: 513)
        table.initialize(from: codes + midpoints + [.infinity, .infinity], count: 513)
        searchStarts = .allocate(capacity: Self.bucketCount)
        for bucket in 0..<Self.bucketCount {
            let values = Self.values(inBucket: bucket)
            let start = Self.count(midpoints, below: values.least), end = Self.count(midpoints, below: values.greatest)
            precondition(end - start <= 2, "a quantization map with codes closer than 1/128 of their magnitude needs a finer lookup")
            searchStarts[bucket] = UInt8(start)
        }
    }

    deinit {
        table.deallocate()
        searchStarts.deallocate()
    }

    /// The code a stored byte stands for.
    @inline(__always)
    func code(_ index: UInt8) -> Float { table[Int(index)] }

    /// The index of the code nearest to `x` (a value in [−1, 1]): the number of midpoints below
    /// `x`, so a tie goes to the lower code. A bucket holds at most two midpoints (checked in
    /// `init`), so two comparisons past the bucket's start find it without branches.
    @inline(__always)
    func index(of x: Float) -> UInt8 {
        let start = Int(searchStarts[Self.bucket(of: x)])
        let midpoints = table + 256 + start
        return UInt8(truncatingIfNeeded: start + (x > midpoints[0] ? 1 : 0) + (x > midpoints[1] ? 1 : 0))
    }

    // Buckets: the top 16 bits of a float (sign, exponent and 7 significand bits). A bucket spans
    // at most 2⁻⁷ of its values' magnitude, and the dynamic maps' codes are at least 0.7% of their
    // magnitude apart, so a bucket holds at most two midpoints.
    private static let bucketCount = 1 << 16

    @inline(__always)
    private static func bucket(of x: Float) -> Int { Int(x.bitPattern >> 16) }

    /// The least and greatest values of a bucket (NaN for the buckets of NaNs).
    private static func values(inBucket bucket: Int) -> (least: Float, greatest: Float) {
        let first = Float(bitPattern: UInt32(bucket) << 16), last = Float(bitPattern: UInt32(bucket) << 16 | 0xFFFF)
        return first.sign == .minus ? (last, first) : (first, last)
    }

    /// The number of `sorted` values below `value` (all of them when `value` is NaN), by bisection.
    private static func count(_ sorted: [Float], below value: Float) -> Int {
        guard !value.isNaN else { return sorted.count }
        var (low, high) = (0, sorted.count)
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < value { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The codes of `bitsandbytes.functional.create_dynamic_map(signed:)` (7 exponent bits, 8 bits).
    static func dynamicCodes(signed: Bool) -> [Float] {
        var codes: [Float] = [0, 1]
        for decade in 0..<7 {
            let boundaries = linspace(from: 0.1, to: 1, count: (signed ? 1 << decade : 1 << (decade + 1)) + 1)
            // Python's 10 ** (i - 6), rounded to float32 when it multiplies the float32 means.
            let scale = decade == 6 ? 1 : Float(Foundation.pow(10, Double(decade - 6)))
            for (low, high) in zip(boundaries, boundaries.dropFirst()) {
                let mean = (low + high) / 2
                codes.append(scale * mean)
                if signed { codes.append(-scale * mean) }
            }
        }
        return codes.sorted()
    }

    /// `torch.linspace(start, end, count, dtype=float32)` by its scalar formula: the first half
    /// counts up from `start`, the second half down from `end`.
    private static func linspace(from start: Float, to end: Float, count: Int) -> [Float] {
        let step = (end - start) / Float(count - 1)
        return (0..<count).map { $0 < count / 2 ? start + step * Float($0) : end - step * Float(count - $0 - 1) }
    }
}
