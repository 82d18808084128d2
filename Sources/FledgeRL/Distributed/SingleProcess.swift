import Foundation

/// The communicator of a run in one process: every collective returns its input.
public final class SingleProcess: Communicator, Sendable {
    public init() {}

    public var rank: Int { 0 }
    public var size: Int { 1 }
    public var collectiveSeconds: Double { 0 }

    public func allReduceSum(_ buffer: UnsafeMutableBufferPointer<Float>, purpose: String) throws {}

    public func allReduceSum(_ values: [Double], purpose: String) throws -> [Double] { values }

    public func allGather(_ values: [Double], purpose: String) throws -> [[Double]] { [values] }

    public func allGather(_ bytes: [UInt8], purpose: String) throws -> [[UInt8]] { [bytes] }

    public func abort(_ message: String) -> Never {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        exit(1)
    }
}
