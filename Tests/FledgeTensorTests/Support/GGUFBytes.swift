/// Builds GGUF files byte by byte for tests: a header, metadata entries and tensor infos, then
/// the data section, each field written as the format lays it out (little-endian).
struct GGUFBytes {
    var bytes: [UInt8] = []

    init(version: UInt32 = 3, tensors: UInt64, entries: UInt64, magic: [UInt8] = Array("GGUF".utf8)) {
        bytes = magic
        u32(version)
        u64(tensors)
        u64(entries)
    }

    mutating func u32(_ value: UInt32) { bytes += (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    mutating func u64(_ value: UInt64) { bytes += (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
    mutating func string(_ text: String) {
        u64(UInt64(text.utf8.count))
        bytes += Array(text.utf8)
    }

    /// A metadata entry of value type `type` whose value bytes `value` writes.
    mutating func entry(_ key: String, type: UInt32, _ value: (inout GGUFBytes) -> Void) {
        string(key)
        u32(type)
        value(&self)
    }

    /// A tensor info.
    mutating func tensor(_ name: String, dimensions: [UInt64], type: UInt32, offset: UInt64) {
        string(name)
        u32(UInt32(dimensions.count))
        for dimension in dimensions { u64(dimension) }
        u32(type)
        u64(offset)
    }

    /// Pads to `alignment` and appends `data` (the data section).
    mutating func data(_ data: [UInt8], alignment: Int = 32) {
        bytes += [UInt8](repeating: 0, count: (alignment - bytes.count % alignment) % alignment)
        bytes += data
    }
}
