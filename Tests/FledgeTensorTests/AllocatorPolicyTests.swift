import CFledgeKernels
import Foundation
import XCTest
@testable import FledgeTensor

/// `AllocatorPolicy`: on glibc the mmap threshold is fixed, so a freed buffer of a megabyte or more
/// goes back to the system instead of staying resident in the heap.
final class AllocatorPolicyTests: XCTestCase {
    /// Resident memory of this process in bytes (`/proc/self/statm`), nil off Linux.
    private func residentBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return nil }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return nil }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    func testFreedLargeBuffersLeaveTheResidentSet() throws {
        #if !os(Linux)
        throw XCTSkip("glibc's allocator only")
        #else
        XCTAssertEqual(fledge_set_mmap_threshold(AllocatorPolicy.mmapThresholdBytes), 1, "mallopt(M_MMAP_THRESHOLD) refused")
        // The rest of the suite runs in this process: leave it with about the threshold glibc grows to on its own.
        addTeardownBlock { _ = fledge_set_mmap_threshold(32 << 20) }
        // Without the fixed threshold, freeing this block would raise glibc's threshold to 8 MiB, and the
        // 2 MiB buffers below would come from the heap, held there by the small buffer allocated after them.
        _ = TensorStorage(zeros: 1 << 21)
        let before = try XCTUnwrap(residentBytes())
        var buffers = (0..<64).map { _ in TensorStorage(zeros: 1 << 19) }
        let pin = TensorStorage(zeros: 1024)
        let held = try XCTUnwrap(residentBytes())
        XCTAssertGreaterThan(held - before, 100 << 20, "the buffers were not resident while held")
        buffers.removeAll()
        let after = try XCTUnwrap(residentBytes())
        withExtendedLifetime(pin) {}
        XCTAssertLessThan(after - before, 16 << 20, "freed buffers stayed resident: \((after - before) >> 20) MiB")
        #endif
    }
}
