#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A whole file mapped into memory privately: pages load lazily from the page cache, and
/// writes (to tensors that borrow this memory) are copy-on-write, never reaching the file.
///
/// Unmapped when the last reference goes away, so tensors that borrow the memory keep the
/// mapping alive. If another process truncates the file while it is mapped, touching the
/// lost pages raises SIGBUS; that is inherent to memory mapping.
final class MappedFile: @unchecked Sendable {
    let path: String
    /// The file's bytes (empty, with no address, for an empty file).
    let bytes: UnsafeMutableRawBufferPointer

    init(path: String) throws(SafeTensorsError) {
        self.path = path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure(path, "cannot open the file") }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw Self.failure(path, "cannot read the file's size") }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw .io(file: path, reason: "not a regular file (a directory or a device?); pass the path of a .safetensors file")
        }
        let size = Int(status.st_size)
        guard size > 0 else {
            bytes = UnsafeMutableRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, descriptor, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw Self.failure(path, "cannot memory-map the file")
        }
        bytes = UnsafeMutableRawBufferPointer(start: address, count: size)
    }

    /// Drops the whole pages inside `range` (byte offsets) from this process's memory: touched
    /// again, they are read from the file afresh (writes made to them are lost). For bytes that
    /// nothing uses any more; pages shared with bytes outside `range` are kept.
    func releasePages(_ range: Range<Int>) {
        guard let base = bytes.baseAddress else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard end > start else { return }
        _ = madvise(base + start, end - start, Int32(MADV_DONTNEED))
    }

    deinit {
        if let address = bytes.baseAddress { munmap(address, bytes.count) }
    }

    private static func failure(_ path: String, _ what: String) -> SafeTensorsError {
        .io(file: path, reason: "\(what): \(String(cString: strerror(errno)))")
    }
}
