/// A table of a FlatBuffers buffer (Arrow IPC's message and schema metadata), read by hand with every
/// offset checked: the metadata needs a dozen tables, too few to bring in the FlatBuffers compiler and
/// runtime, which are not packaged for Swift on this platform.
struct FlatBufferTable {
    let bytes: [UInt8]
    /// Where the table starts.
    let position: Int
    private let vtable: Int
    private let vtableSize: Int

    /// The root table of the buffer in `bytes[start..<end]` (the other bounds of `bytes` hold other data).
    static func root(_ bytes: [UInt8], start: Int, end: Int) throws(DataFormatError) -> FlatBufferTable {
        let slice = Array(bytes[start..<end])
        return try FlatBufferTable(slice, at: Int(try read32(slice, 0)))
    }

    private init(_ bytes: [UInt8], at position: Int) throws(DataFormatError) {
        self.bytes = bytes
        self.position = position
        let vtable = position - Int(Int32(bitPattern: try Self.read32(bytes, position)))
        guard vtable >= 0, vtable <= bytes.count - 4 else { throw DataFormatError("a FlatBuffers vtable lies outside the metadata") }
        self.vtable = vtable
        vtableSize = Int(try Self.read16(bytes, vtable))
        guard vtableSize >= 4, vtableSize <= bytes.count - vtable else { throw DataFormatError("a FlatBuffers vtable overruns the metadata") }
    }

    /// Where field `index`'s value is, or nil when it is absent (its default applies).
    private func fieldPosition(_ index: Int) throws(DataFormatError) -> Int? {
        let entry = 4 + 2 * index
        guard entry + 2 <= vtableSize else { return nil }
        let offset = Int(try Self.read16(bytes, vtable + entry))
        return offset == 0 ? nil : position + offset
    }

    func int64(_ index: Int, default value: Int64 = 0) throws(DataFormatError) -> Int64 {
        guard let at = try fieldPosition(index) else { return value }
        return Int64(bitPattern: UInt64(try Self.read32(bytes, at)) | UInt64(try Self.read32(bytes, at + 4)) << 32)
    }

    func int32(_ index: Int, default value: Int32 = 0) throws(DataFormatError) -> Int32 {
        guard let at = try fieldPosition(index) else { return value }
        return Int32(bitPattern: try Self.read32(bytes, at))
    }

    func int16(_ index: Int, default value: Int16 = 0) throws(DataFormatError) -> Int16 {
        guard let at = try fieldPosition(index) else { return value }
        return Int16(bitPattern: try Self.read16(bytes, at))
    }

    func uint8(_ index: Int, default value: UInt8 = 0) throws(DataFormatError) -> UInt8 {
        guard let at = try fieldPosition(index) else { return value }
        guard at < bytes.count else { throw DataFormatError("a FlatBuffers field lies outside the metadata") }
        return bytes[at]
    }

    func bool(_ index: Int) throws(DataFormatError) -> Bool { try uint8(index) != 0 }

    /// The table that field `index` refers to.
    func table(_ index: Int) throws(DataFormatError) -> FlatBufferTable? {
        guard let at = try fieldPosition(index) else { return nil }
        return try FlatBufferTable(bytes, at: at + Int(try Self.read32(bytes, at)))
    }

    func string(_ index: Int) throws(DataFormatError) -> String? {
        guard let (start, count) = try vector(index, elementSize: 1) else { return nil }
        return String(decoding: bytes[start..<start + count], as: UTF8.self)
    }

    /// The tables of the vector in field `index`.
    func tables(_ index: Int) throws(DataFormatError) -> [FlatBufferTable] {
        guard let (start, count) = try vector(index, elementSize: 4) else { return [] }
        var tables: [FlatBufferTable] = []
        for element in 0..<count {
            let at = start + 4 * element
            tables.append(try FlatBufferTable(bytes, at: at + Int(try Self.read32(bytes, at))))
        }
        return tables
    }

    /// The structs of `fieldCount` little-endian 64-bit integers in the vector in field `index`.
    func int64Structs(_ index: Int, fieldCount: Int) throws(DataFormatError) -> [[Int64]] {
        guard let (start, count) = try vector(index, elementSize: 8 * fieldCount) else { return [] }
        var cursor = ByteCursor(bytes, from: start)
        return try (0..<count).map { _ throws(DataFormatError) in
            try (0..<fieldCount).map { _ throws(DataFormatError) in Int64(bitPattern: try cursor.littleEndian(width: 8)) }
        }
    }

    /// The start and element count of the vector in field `index`, checked to lie in the buffer.
    private func vector(_ index: Int, elementSize: Int) throws(DataFormatError) -> (Int, Int)? {
        guard let at = try fieldPosition(index) else { return nil }
        let start = at + Int(try Self.read32(bytes, at))
        let count = Int(try Self.read32(bytes, start))
        guard count <= (bytes.count - start - 4) / elementSize else { throw DataFormatError("a FlatBuffers vector overruns the metadata") }
        return (start + 4, count)
    }

    private static func read32(_ bytes: [UInt8], _ at: Int) throws(DataFormatError) -> UInt32 {
        guard at >= 0, at <= bytes.count - 4 else { throw DataFormatError("a FlatBuffers offset lies outside the metadata") }
        return UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
    }

    private static func read16(_ bytes: [UInt8], _ at: Int) throws(DataFormatError) -> UInt16 {
        guard at >= 0, at <= bytes.count - 2 else { throw DataFormatError("a FlatBuffers offset lies outside the metadata") }
        return UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8
    }
}
