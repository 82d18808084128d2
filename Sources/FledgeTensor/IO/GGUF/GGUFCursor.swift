/// Reads the little-endian fields of a GGUF header one after another, checking each against the
/// end of the file before touching it; errors name the file and what was being read.
struct GGUFCursor {
    let file: String
    let bytes: UnsafeRawBufferPointer
    private(set) var offset = 0

    init(file: String, bytes: UnsafeRawBufferPointer) {
        self.file = file
        self.bytes = bytes
    }

    /// Bytes left after the cursor.
    var remaining: Int { bytes.count - offset }

    /// Moves past `count` bytes of `what`, returning where they start.
    mutating func skip(_ count: UInt64, _ what: @autoclosure () -> String) throws(GGUFError) -> Int {
        guard count <= UInt64(remaining) else {
            throw .truncated(file: file, what: what(), offset: offset, needed: count, fileSize: bytes.count)
        }
        let start = offset
        offset += Int(count)
        return start
    }

    mutating func read<Value: FixedWidthInteger>(_ type: Value.Type, _ what: @autoclosure () -> String) throws(GGUFError) -> Value {
        let start = try skip(UInt64(MemoryLayout<Value>.size), what())
        return Value(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: Value.self))
    }

    /// A GGUF string: a 64-bit length and that many UTF-8 bytes (invalid sequences become U+FFFD,
    /// as Python's `errors="replace"` would).
    mutating func string(_ what: @autoclosure () -> String) throws(GGUFError) -> String {
        let length = try read(UInt64.self, "the length of \(what())")
        let start = try skip(length, what())
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
    }
}
