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
struct DynamicQuantizationMap: Sendable {
    /// The codes in ascending order; a stored byte `q` stands for `codes[q]` times the block's scale.
    let codes: [Float]
    /// `midpoints[i]` lies halfway between `codes[i]` and `codes[i + 1]`.
    private let midpoints: [Float]
    /// For each lookup bucket of float bit patterns, the number of midpoints below every value in
    /// the bucket: the search for the nearest code starts there.
    private let searchStarts: [UInt8]

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
        self.midpoints = midpoints
        searchStarts = (0..<2 * Self.bucketsPerSign).map { bucket in
            let least = Self.leastValue(inBucket: bucket)
            return UInt8(midpoints.firstIndex { $0 >= least } ?? 255)
        }
    }

    /// The index of the code nearest to `x` (a value in [−1, 1]); a tie goes to the lower code.
    @inline(__always)
    func index(of x: Float) -> UInt8 {
        var index = Int(searchStarts[Self.bucket(of: x)])
        while index < 255, x > midpoints[index] { index += 1 }
        return UInt8(truncatingIfNeeded: index)
    }

    // Buckets: per sign, one for magnitudes below 2⁻²³, then 256 per binade [2^e, 2^(e+1)) for
    // e = −23 … 0, split by the top 8 significand bits. A bucket is at most 2⁻⁸ of its values
    // wide, narrower than the gaps between the maps' codes, so a search moves at most a step or two.
    private static let smallestBinadeExponentBits = 104
    private static let binades = 24
    private static let bucketsPerSign = 1 + binades * 256

    @inline(__always)
    private static func bucket(of x: Float) -> Int {
        let bits = x.bitPattern
        let binade = Int((bits >> 23) & 0xFF) - smallestBinadeExponentBits
        let magnitude = binade < 0 ? 0 : 1 + Swift.min(binade, binades - 1) * 256 + Int((bits >> 15) & 0xFF)
        return Int(bits >> 31) * bucketsPerSign + magnitude
    }

    /// The least value a bucket holds (its most negative end for negative values).
    private static func leastValue(inBucket bucket: Int) -> Float {
        let negative = bucket >= bucketsPerSign
        let magnitude = bucket % bucketsPerSign
        func start(_ slot: Int) -> Float {
            slot == 0 ? 0 : Float(bitPattern: UInt32(smallestBinadeExponentBits + (slot - 1) / 256) << 23 | UInt32((slot - 1) % 256) << 15)
        }
        if !negative { return start(magnitude) }
        return magnitude == 0 ? -Float(bitPattern: UInt32(smallestBinadeExponentBits) << 23) : -start(magnitude + 1)
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
