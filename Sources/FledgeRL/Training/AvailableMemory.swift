import Foundation

/// The memory this machine can give a process now without swapping.
enum AvailableMemory {
    /// Linux's `MemAvailable` from `/proc/meminfo` in bytes, or the physical memory where that
    /// file or line is missing (other systems).
    static func bytes() -> Int {
        let physical = Int(clamping: ProcessInfo.processInfo.physicalMemory)
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return physical }
        return available(inMeminfo: text) ?? physical
    }

    /// The `MemAvailable:  123456 kB` line of a `/proc/meminfo` text, in bytes; nil without one.
    static func available(inMeminfo text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes.multipliedReportingOverflow(by: 1024).overflow ? nil : kilobytes * 1024
        }
        return nil
    }
}
