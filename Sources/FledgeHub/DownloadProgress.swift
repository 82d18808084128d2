import Foundation

/// The one-line progress of a download, redrawn on standard error at most five times a second; silent
/// unless enabled (a terminal).
final class DownloadProgress {
    private let name: String
    private let total: Int?
    private let enabled: Bool
    private var lastDrawn = Date.distantPast
    private var drew = false

    init(name: String, total: Int?, enabled: Bool) {
        self.name = name
        self.total = total
        self.enabled = enabled
    }

    func update(_ bytes: Int) {
        guard enabled, Date().timeIntervalSince(lastDrawn) >= 0.2 || bytes == total else { return }
        lastDrawn = Date()
        let of = total.map { " / \(Self.size($0)) (\(Int(Double(bytes) / Double(max($0, 1)) * 100))%)" } ?? ""
        FileHandle.standardError.write(Data("\r\u{1B}[Kdownloading \(name): \(Self.size(bytes))\(of)".utf8))
        drew = true
    }

    /// A byte count in KB, MB or GB (powers of 1024), as download tools print it.
    static func size(_ bytes: Int) -> String {
        let value = Double(bytes)
        if value >= 1_073_741_824 { return String(format: "%.2f GB", value / 1_073_741_824) }
        if value >= 1_048_576 { return String(format: "%.1f MB", value / 1_048_576) }
        return String(format: "%.0f KB", (value / 1024).rounded(.up))
    }

    func note(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)\n".utf8))
    }

    func finish() {
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
