import CSnappy
import CZlib
import CZstd

/// A block compression used by Parquet pages and Arrow IPC bodies, decompressed by the system's
/// libraries (snappy, zlib, zstd).
public enum Codec: String, Sendable {
    case uncompressed = "UNCOMPRESSED"
    case snappy = "SNAPPY"
    case gzip = "GZIP"
    case zstd = "ZSTD"

    /// The bytes `input` decompresses to, which must be exactly `expectedSize` bytes.
    func decompress(_ input: ArraySlice<UInt8>, expectedSize: Int) throws(DataFormatError) -> [UInt8] {
        guard expectedSize >= 0 else { throw DataFormatError("negative uncompressed size \(expectedSize)") }
        if self == .uncompressed {
            guard input.count == expectedSize else {
                throw DataFormatError("the block holds \(input.count) bytes but its header says \(expectedSize)")
            }
            return Array(input)
        }
        var output = [UInt8](repeating: 0, count: expectedSize)
        let produced: Int? = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                switch self {
                case .uncompressed: return nil
                case .snappy: return Self.snappy(source, into: target)
                case .gzip: return Self.gzip(source, into: target)
                case .zstd: return Self.zstd(source, into: target)
                }
            }
        }
        guard let produced else { throw DataFormatError("\(rawValue) data is corrupt") }
        guard produced == expectedSize else {
            throw DataFormatError("\(rawValue) data decompresses to \(produced) bytes but the header says \(expectedSize)")
        }
        return output
    }

    private static func snappy(_ source: UnsafeBufferPointer<UInt8>, into target: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let input = source.baseAddress else { return target.isEmpty ? 0 : nil }
        var length = 0
        guard snappy_uncompressed_length(input, source.count, &length) == SNAPPY_OK, length <= target.count else { return nil }
        var produced = target.count
        let status = input.withMemoryRebound(to: CChar.self, capacity: source.count) { characters in
            target.baseAddress!.withMemoryRebound(to: CChar.self, capacity: target.count) {
                snappy_uncompress(characters, source.count, $0, &produced)
            }
        }
        return status == SNAPPY_OK ? produced : nil
    }

    private static func gzip(_ source: UnsafeBufferPointer<UInt8>, into target: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let input = source.baseAddress, let output = target.baseAddress,
              source.count <= Int(UInt32.max), target.count <= Int(UInt32.max) else { return nil }
        var stream = z_stream()
        // 15 + 32: the largest window, with a gzip or zlib header detected automatically.
        guard inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return nil }
        defer { inflateEnd(&stream) }
        stream.next_in = UnsafeMutablePointer(mutating: input)
        stream.avail_in = UInt32(source.count)
        stream.next_out = output
        stream.avail_out = UInt32(target.count)
        let status = inflate(&stream, Z_FINISH)
        return status == Z_STREAM_END ? target.count - Int(stream.avail_out) : nil
    }

    private static func zstd(_ source: UnsafeBufferPointer<UInt8>, into target: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        guard let input = source.baseAddress, let output = target.baseAddress else { return target.isEmpty ? 0 : nil }
        let produced = ZSTD_decompress(output, target.count, input, source.count)
        return ZSTD_isError(produced) != 0 ? nil : produced
    }
}
