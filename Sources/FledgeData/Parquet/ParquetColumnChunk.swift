import FledgeJSON

/// One leaf column of one row group, decoded: its levels and its non-null values.
struct ParquetColumnChunk {
    /// Definition levels, one per entry (empty when the column's maximum is 0: every entry is defined).
    var definitions: [Int32] = []
    /// Repetition levels, one per entry (empty when the column is not inside a list).
    var repetitions: [Int32] = []
    /// The values of the entries that are defined, in order.
    var values: [JSONValue] = []
    /// The number of entries (values and nulls, empty lists included).
    var entryCount = 0

    /// The most values one page may hold: pyarrow writes at most 20,000 rows a page; the cap keeps a
    /// corrupt header from asking for billions.
    static let maximumPageValues = 1 << 22

    /// Reads the pages of `chunk` from `file`; errors name the page (counted from 1).
    init(file: [UInt8], chunk: ParquetMetadata.ColumnChunk, leaf: ParquetSchema.Leaf) throws(DataFormatError) {
        guard let codec = [0: Codec.uncompressed, 1: .snappy, 2: .gzip, 6: .zstd][chunk.codec] else {
            let name = [3: "LZO", 4: "BROTLI", 5: "LZ4", 7: "LZ4_RAW"][chunk.codec] ?? "number \(chunk.codec)"
            throw DataFormatError("compression \(name) is not supported (Fledge reads uncompressed, SNAPPY, GZIP and ZSTD); "
                + "rewrite the file with one of those")
        }
        let start = chunk.start
        guard start >= 4, chunk.totalCompressedSize >= 0, start <= file.count - 8,
              chunk.totalCompressedSize <= file.count - 8 - start else {
            throw DataFormatError("the column chunk's bytes \(start)..<\(start + chunk.totalCompressedSize) lie outside the file")
        }
        let end = start + chunk.totalCompressedSize
        let decoder = ParquetValueDecoder(kind: leaf.kind)
        var dictionary: [JSONValue]?
        var position = start
        var page = 0
        while entryCount < chunk.valueCount && position < end {
            page += 1
            do throws(DataFormatError) {
                var reader = ThriftCompactReader(file, from: position, to: end)
                let header = try ParquetPageHeader(reader.readStruct())
                let bodyStart = reader.position
                guard header.compressedSize <= end - bodyStart else {
                    throw DataFormatError("the page's \(header.compressedSize) bytes overrun the column chunk")
                }
                guard header.valueCount <= Self.maximumPageValues else {
                    throw DataFormatError("the page header claims \(header.valueCount) values (at most \(Self.maximumPageValues))")
                }
                let body = file[bodyStart..<bodyStart + header.compressedSize]
                position = bodyStart + header.compressedSize
                switch header.kind {
                case .dictionary:
                    guard dictionary == nil else { throw DataFormatError("a second dictionary page") }
                    guard header.encoding == 0 || header.encoding == 2 else {
                        throw DataFormatError("a dictionary page with encoding \(header.encoding) (PLAIN expected)")
                    }
                    var cursor = ByteCursor(try codec.decompress(body, expectedSize: header.uncompressedSize))
                    var entries: [JSONValue] = []
                    try decoder.decode(&cursor, encoding: 0, count: header.valueCount, dictionary: nil, into: &entries)
                    dictionary = entries
                case .data:
                    let bytes = try codec.decompress(body, expectedSize: header.uncompressedSize)
                    var cursor = ByteCursor(bytes)
                    try readLevels(&cursor, leaf: leaf, count: header.valueCount)
                    try readValues(&cursor, header: header, leaf: leaf, decoder: decoder, dictionary: dictionary)
                case .dataV2:
                    let levelsLength = header.repetitionLevelsLength + header.definitionLevelsLength
                    let levels = Array(body.prefix(levelsLength))
                    var repetitionCursor = ByteCursor(levels, to: header.repetitionLevelsLength)
                    var definitionCursor = ByteCursor(levels, from: header.repetitionLevelsLength)
                    try readLevels(repetitions: &repetitionCursor, definitions: &definitionCursor, leaf: leaf, count: header.valueCount)
                    let valuesCodec = header.valuesCompressed ? codec : .uncompressed
                    var cursor = ByteCursor(try valuesCodec.decompress(body.dropFirst(levelsLength),
                                                                       expectedSize: header.uncompressedSize - levelsLength))
                    try readValues(&cursor, header: header, leaf: leaf, decoder: decoder, dictionary: dictionary)
                case .other:
                    continue
                }
            } catch {
                throw DataFormatError("page \(page): \(error.message)")
            }
        }
        guard entryCount == chunk.valueCount else {
            throw DataFormatError("the pages hold \(entryCount) values but the column chunk's metadata says \(chunk.valueCount)")
        }
    }

    /// v1 levels: repetition then definition levels, each a 4-byte length and RLE/bit-packed hybrid data.
    private mutating func readLevels(_ cursor: inout ByteCursor, leaf: ParquetSchema.Leaf, count: Int) throws(DataFormatError) {
        var sections: [ByteCursor] = []
        for maximum in [leaf.maxRepetition, leaf.maxDefinition] {
            guard maximum > 0 else {
                sections.append(ByteCursor([]))
                continue
            }
            let length = Int(try cursor.littleEndian(width: 4))
            let range = try cursor.skip(length)
            sections.append(ByteCursor(cursor.bytes, from: range.lowerBound, to: range.upperBound))
        }
        var repetitions = sections[0]
        var definitions = sections[1]
        try readLevels(repetitions: &repetitions, definitions: &definitions, leaf: leaf, count: count)
    }

    private mutating func readLevels(repetitions: inout ByteCursor, definitions: inout ByteCursor, leaf: ParquetSchema.Leaf,
                                     count: Int) throws(DataFormatError) {
        let firstEntry = entryCount
        if leaf.maxRepetition > 0 {
            try RLEHybridDecoder.decode(&repetitions, width: BitUnpacking.width(of: leaf.maxRepetition), count: count,
                                        into: &self.repetitions)
            if let bad = self.repetitions[firstEntry...].first(where: { $0 > leaf.maxRepetition }) {
                throw DataFormatError("repetition level \(bad) above the column's maximum \(leaf.maxRepetition)")
            }
        }
        if leaf.maxDefinition > 0 {
            try RLEHybridDecoder.decode(&definitions, width: BitUnpacking.width(of: leaf.maxDefinition), count: count,
                                        into: &self.definitions)
            if let bad = self.definitions[firstEntry...].first(where: { $0 > leaf.maxDefinition }) {
                throw DataFormatError("definition level \(bad) above the column's maximum \(leaf.maxDefinition)")
            }
        }
        entryCount += count
    }

    private mutating func readValues(_ cursor: inout ByteCursor, header: ParquetPageHeader, leaf: ParquetSchema.Leaf,
                                     decoder: ParquetValueDecoder, dictionary: [JSONValue]?) throws(DataFormatError) {
        let pageEntries = entryCount - header.valueCount
        let present = leaf.maxDefinition == 0 ? header.valueCount
            : definitions[pageEntries...].reduce(0) { $0 + ($1 == Int32(leaf.maxDefinition) ? 1 : 0) }
        try decoder.decode(&cursor, encoding: header.encoding, count: present, dictionary: dictionary, into: &values)
    }
}
