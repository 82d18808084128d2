/// The parts of a Parquet footer (`FileMetaData` in parquet.thrift) that reading rows needs.
struct ParquetMetadata: Sendable {
    /// One `SchemaElement`: the schema is these in depth-first order, groups giving their child count.
    struct SchemaElement: Sendable {
        var name: String
        var physicalType: Int?
        var typeLength: Int?
        /// 0 required, 1 optional, 2 repeated; nil for the root.
        var repetition: Int?
        var childCount: Int
        var convertedType: Int?
        /// The field id set in the `LogicalType` union (1 STRING, 3 LIST, 10 INTEGER, …).
        var logicalType: Int?
        /// For an INTEGER logical type: its width in bits and whether it is signed.
        var integerWidth: Int?
        var integerSigned: Bool?
    }

    /// The part of a `ColumnChunk`'s `ColumnMetaData` that locates and decodes its pages.
    struct ColumnChunk: Sendable {
        var path: [String]
        var codec: Int
        var valueCount: Int
        var totalCompressedSize: Int
        var dataPageOffset: Int
        var dictionaryPageOffset: Int?

        /// Where the chunk's first page starts: the dictionary page when there is one before the data
        /// pages (some writers store 0 for "no dictionary page", which Arrow's reader ignores too).
        var start: Int {
            guard let dictionary = dictionaryPageOffset, dictionary > 0, dictionary < dataPageOffset else { return dataPageOffset }
            return dictionary
        }
    }

    struct RowGroup: Sendable {
        var rowCount: Int
        var columns: [ColumnChunk]
    }

    var schema: [SchemaElement]
    var rowCount: Int
    var rowGroups: [RowGroup]

    init(_ footer: ThriftStruct) throws(DataFormatError) {
        guard let elements = footer.list(2), !elements.isEmpty else { throw DataFormatError("the footer has no schema") }
        schema = try elements.map { value throws(DataFormatError) in
            guard case .structure(let element) = value else { throw DataFormatError("a schema element is not a struct") }
            let logical = element.structure(10)
            let integer = logical?.structure(10)
            let childCount = element.integer(5) ?? 0
            guard (0..<Int64(elements.count)).contains(childCount) else {
                throw DataFormatError("schema element '\(element.string(4) ?? "")' has \(childCount) children; the schema lists \(elements.count) elements")
            }
            return SchemaElement(
                name: element.string(4) ?? "", physicalType: element.integer(1).map(Int.init),
                typeLength: element.integer(2).map(Int.init), repetition: element.integer(3).map(Int.init),
                childCount: Int(childCount), convertedType: element.integer(6).map(Int.init),
                logicalType: logical?.fields.keys.first.map(Int.init), integerWidth: integer?.integer(1).map(Int.init),
                integerSigned: integer?.bool(2))
        }
        rowCount = try footer.required(3, "FileMetaData.num_rows")
        rowGroups = try (footer.list(4) ?? []).map { value throws(DataFormatError) in
            guard case .structure(let group) = value else { throw DataFormatError("a row group is not a struct") }
            let columns = try (group.list(1) ?? []).map { value throws(DataFormatError) in
                guard case .structure(let chunk) = value, let meta = chunk.structure(3) else {
                    throw DataFormatError("a column chunk has no metadata (chunks in other files are not supported)")
                }
                if let path = chunk.string(1), !path.isEmpty {
                    throw DataFormatError("a column chunk is in another file (\(path)), which is not supported")
                }
                let path = (meta.list(3) ?? []).map { if case .binary(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { "?" } }
                return ColumnChunk(
                    path: path, codec: try meta.required(4, "ColumnMetaData.codec"),
                    valueCount: try meta.required(5, "ColumnMetaData.num_values"),
                    totalCompressedSize: try meta.required(7, "ColumnMetaData.total_compressed_size"),
                    dataPageOffset: try meta.required(9, "ColumnMetaData.data_page_offset"),
                    dictionaryPageOffset: meta.integer(11).map(Int.init))
            }
            return RowGroup(rowCount: try group.required(3, "RowGroup.num_rows"), columns: columns)
        }
    }
}

/// A `PageHeader` of parquet.thrift, with its data, dictionary or v2 data page header.
struct ParquetPageHeader {
    enum Kind { case data, dictionary, dataV2, other }

    var kind: Kind
    var uncompressedSize: Int
    var compressedSize: Int
    /// Values in the page, nulls included (data pages), or dictionary entries.
    var valueCount: Int
    var encoding: Int
    /// v2 only: the number of nulls, the byte lengths of the level sections, and whether the values are compressed.
    var nullCount = 0
    var repetitionLevelsLength = 0
    var definitionLevelsLength = 0
    var valuesCompressed = true

    init(_ header: ThriftStruct) throws(DataFormatError) {
        uncompressedSize = try header.required(2, "PageHeader.uncompressed_page_size")
        compressedSize = try header.required(3, "PageHeader.compressed_page_size")
        guard uncompressedSize >= 0, compressedSize >= 0 else { throw DataFormatError("a page header gives a negative size") }
        switch try header.required(1, "PageHeader.type") {
        case 0:
            guard let data = header.structure(5) else { throw DataFormatError("a data page has no data_page_header") }
            kind = .data
            valueCount = try data.required(1, "DataPageHeader.num_values")
            encoding = try data.required(2, "DataPageHeader.encoding")
        case 2:
            guard let dictionary = header.structure(7) else { throw DataFormatError("a dictionary page has no dictionary_page_header") }
            kind = .dictionary
            valueCount = try dictionary.required(1, "DictionaryPageHeader.num_values")
            encoding = try dictionary.required(2, "DictionaryPageHeader.encoding")
        case 3:
            guard let data = header.structure(8) else { throw DataFormatError("a v2 data page has no data_page_header_v2") }
            kind = .dataV2
            valueCount = try data.required(1, "DataPageHeaderV2.num_values")
            nullCount = try data.required(2, "DataPageHeaderV2.num_nulls")
            encoding = try data.required(4, "DataPageHeaderV2.encoding")
            definitionLevelsLength = try data.required(5, "DataPageHeaderV2.definition_levels_byte_length")
            repetitionLevelsLength = try data.required(6, "DataPageHeaderV2.repetition_levels_byte_length")
            valuesCompressed = data.bool(7) ?? true
            guard definitionLevelsLength >= 0, repetitionLevelsLength >= 0,
                  definitionLevelsLength + repetitionLevelsLength <= min(compressedSize, uncompressedSize) else {
                throw DataFormatError("the level lengths of a v2 data page exceed the page")
            }
        default:
            kind = .other
            valueCount = 0
            encoding = 0
        }
        guard valueCount >= 0, nullCount >= 0 else { throw DataFormatError("a page header gives a negative count") }
    }
}
