import Foundation

/// A small, fast, seeded random generator (SplitMix64): the same seed gives the same
/// numbers on every machine, which keeps initialisation and sampling reproducible.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    /// The whole generator state: `SeededGenerator(seed: g.state)` continues exactly where `g`
    /// is (checkpoints save it to resume a run's randomness).
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)` with 24 random bits.
    public mutating func nextUnitFloat() -> Float { Float(next() >> 40) * (1 / Float(1 << 24)) }
}

/// One seed made from several values (a run's seed, an epoch, a round, a row, a turn …): the first draw of a generator
/// seeded with their multiplicative hash, so that nearby values give unrelated seeds. Seeding generators with
/// `seed + i·γ` instead (γ SplitMix64's increment) would make generator `i + 1` replay generator `i`'s numbers one draw
/// later.
public func mixedSeed(_ values: UInt64...) -> UInt64 {
    var generator = SeededGenerator(seed: values.reduce(0x243F_6A88_85A3_08D3) { ($0 ^ $1) &* 0x9E37_79B9_7F4A_7C15 })
    return generator.next()
}

extension Tensor {
    /// A tensor of values uniform in `range`.
    public static func uniform(_ shape: [Int], in range: Range<Float>, using generator: inout SeededGenerator) -> Tensor {
        let width = range.upperBound - range.lowerBound
        return Tensor(shape: shape) { buffer in
            for i in buffer.indices { buffer[i] = range.lowerBound + width * generator.nextUnitFloat() }
        }
    }

    /// A tensor of normally distributed values (Box–Muller), mean 0 and `standardDeviation`.
    public static func normal(_ shape: [Int], standardDeviation: Float, using generator: inout SeededGenerator) -> Tensor {
        Tensor(shape: shape) { buffer in
            for i in buffer.indices {
                let u = Swift.max(generator.nextUnitFloat(), .leastNormalMagnitude), v = generator.nextUnitFloat()
                buffer[i] = standardDeviation * (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * .pi * v)
            }
        }
    }
}
