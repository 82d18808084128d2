import FledgeData
import FuzzSupport

/// An Arrow IPC file or stream: the FlatBuffers messages, dictionaries and record batches (compressed or
/// not) read into rows, each of which must have exactly the schema's columns.
func fuzzArrowIPC(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchDirectory.write(fuzzInput(data, size), to: "data.arrow")
    guard let file = try? ArrowIPCFile(url: url) else { return 0 }
    for row in file.rows { precondition(row.keys == file.columns.map(\.name), "a row without the schema's columns") }
    return 0
}

runFuzzer(fuzzArrowIPC)
