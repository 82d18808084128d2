import FledgeTensor

/// One seed made from several values (a run's seed, an epoch, a round, a turn …): the first draw of a generator seeded
/// with their multiplicative hash, so that nearby values give unrelated seeds. Epoch shuffles, rounds and the turns of
/// an episode take their generators' seeds from it.
func mixedSeed(_ values: UInt64...) -> UInt64 {
    var generator = SeededGenerator(seed: values.reduce(0x243F_6A88_85A3_08D3) { ($0 ^ $1) &* 0x9E37_79B9_7F4A_7C15 })
    return generator.next()
}
