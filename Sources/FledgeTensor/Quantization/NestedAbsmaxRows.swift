/// The block statistics of an NF4/FP4 matrix quantized with nested absmax (bitsandbytes'
/// `compress_statistics`, TRL's `use_bnb_nested_quant`), kept as compact in memory as
/// bitsandbytes keeps them: each stored block is 33 bytes, the absmax's 8-bit code followed by
/// the 32 packed bytes, and this holds the rest — per checkpoint weight (a group of rows), its
/// float32 scales (one per 256 blocks, `NestedAbsmax.blockSize`) and its offset. Blocks expand
/// to the self-contained 36-byte layout of `BitsAndBytes4BitFormat` as they are read, each
/// absmax decoded as bitsandbytes' `dequantize_4bit` decodes it: `code[q] · scale`, then
/// `+ offset`, in float32 (`NestedAbsmax.absmax`).
struct NestedAbsmaxRows: Sendable {
    /// Bytes of one stored block: the absmax code and 64 packed 4-bit codes.
    static let bytesPerBlock = 33
    /// Bytes of one block once expanded (`BitsAndBytes4BitFormat.bytesPerBlock`).
    static let expandedBytesPerBlock = 36

    /// The statistics of one checkpoint weight's rows.
    struct Group: Sendable {
        /// The stored rows it covers.
        let rows: Range<Int>
        /// The index, in `scales`' numbering, of the first block of `rows` (nonzero when a group
        /// was cut by a view of rows and stacked again).
        let firstBlock: Int
        /// One scale per 256 blocks of the whole weight.
        let scales: [Float]
        /// The mean subtracted before the absmax were quantized.
        let offset: Float
    }

    /// Groups in row order, together covering every stored row.
    let groups: [Group]

    /// The stored block layout of `blocks` (bitsandbytes' 4-bit blocks, 36 bytes each, `rows`
    /// rows of `blocksPerRow`) with each group of rows' absmax compressed by `NestedAbsmax`:
    /// the compact blocks and their statistics. `groups` must cover `0..<rows` in order.
    static func compress(_ blocks: [UInt8], rows: Int, blocksPerRow: Int, groups: [Range<Int>]) -> (blocks: [UInt8], statistics: NestedAbsmaxRows) {
        precondition(groups.first?.lowerBound == 0 && groups.last?.upperBound == rows
                     && zip(groups, groups.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound },
                     "nested absmax groups \(groups) do not cover rows 0..<\(rows) in order")
        var compact = [UInt8](repeating: 0, count: rows * blocksPerRow * bytesPerBlock)
        var statistics: [Group] = []
        blocks.withUnsafeBytes { source in
            compact.withUnsafeMutableBytes { target in
                for rowRange in groups {
                    let range = (rowRange.lowerBound * blocksPerRow)..<(rowRange.upperBound * blocksPerRow)
                    let absmax = range.map { Float(bitPattern: BlockBytes(base: source.baseAddress! + $0 * expandedBytesPerBlock).uint32(at: 0)) }
                    let nested = NestedAbsmax(compressing: absmax)
                    for (index, block) in range.enumerated() {
                        target[block * bytesPerBlock] = nested.codes[index]
                        (target.baseAddress! + block * bytesPerBlock + 1)
                            .copyMemory(from: source.baseAddress! + block * expandedBytesPerBlock + 4, byteCount: 32)
                    }
                    statistics.append(Group(rows: rowRange, firstBlock: 0, scales: nested.scales, offset: nested.offset))
                }
            }
        }
        return (compact, NestedAbsmaxRows(groups: statistics))
    }

    /// bitsandbytes' two tensors for one weight — `packed` (32 bytes a block) and the compressed
    /// absmax — as compact blocks of `rows` rows, with one group.
    static func interleave(packed: [UInt8], absmax: NestedAbsmax, rows: Int) -> (blocks: [UInt8], statistics: NestedAbsmaxRows) {
        precondition(packed.count == absmax.codes.count * 32, "\(packed.count) packed bytes for \(absmax.codes.count) blocks")
        var compact = [UInt8](repeating: 0, count: absmax.codes.count * bytesPerBlock)
        for block in absmax.codes.indices {
            compact[block * bytesPerBlock] = absmax.codes[block]
            for j in 0..<32 { compact[block * bytesPerBlock + 1 + j] = packed[block * 32 + j] }
        }
        return (compact, NestedAbsmaxRows(groups: [Group(rows: 0..<rows, firstBlock: 0, scales: absmax.scales, offset: absmax.offset)]))
    }

    /// The statistics of stored rows `range`, renumbered from 0 (a view's rows, for stacking).
    func rows(_ range: Range<Int>, blocksPerRow: Int) -> [Group] {
        groups.compactMap { group in
            let overlap = group.rows.clamped(to: range)
            guard !overlap.isEmpty else { return nil }
            return Group(rows: (overlap.lowerBound - range.lowerBound)..<(overlap.upperBound - range.lowerBound),
                         firstBlock: group.firstBlock + (overlap.lowerBound - group.rows.lowerBound) * blocksPerRow,
                         scales: group.scales, offset: group.offset)
        }
    }

    /// The bytes the scales take (the codes are in the blocks).
    var byteCount: Int { groups.reduce(0) { $0 + ($1.scales.count + 1) * MemoryLayout<Float>.size } }

    /// Expands stored row `row`'s blocks `blocks` (its block `blocks.lowerBound` at `source`)
    /// into the 36-byte layout at `target`.
    func expand(row: Int, blocksPerRow: Int, blocks: Range<Int>, from source: UnsafeRawPointer, into target: UnsafeMutableRawPointer) {
        let group = self.group(containing: row)
        let code = DynamicQuantization.code
        var index = group.firstBlock + (row - group.rows.lowerBound) * blocksPerRow + blocks.lowerBound
        for block in 0..<blocks.count {
            let stored = source + block * Self.bytesPerBlock, expanded = target + block * Self.expandedBytesPerBlock
            let absmax = code[Int(stored.load(as: UInt8.self))] * group.scales[index / NestedAbsmax.blockSize] + group.offset
            expanded.storeBytes(of: absmax.bitPattern.littleEndian, as: UInt32.self)
            (expanded + 4).copyMemory(from: stored + 1, byteCount: 32)
            index += 1
        }
    }

    /// The group holding stored row `row` (a binary search: a reordered GGUF matrix has a group a row).
    private func group(containing row: Int) -> Group {
        var low = 0, high = groups.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if groups[middle].rows.lowerBound <= row { low = middle } else { high = middle - 1 }
        }
        return groups[low]
    }
}
