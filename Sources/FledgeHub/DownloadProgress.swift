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
        let megabytes = { (count: Int) in String(format: "%.1f", Double(count) / 1_048_576) }
        let of = total.map { " / \(megabytes($0)) MB (\(Int(Double(bytes) / Double(max($0, 1)) * 100))%)" } ?? " MB"
        FileHandle.standardError.write(Data("\r\u{1B}[Kdownloading \(name): \(megabytes(bytes))\(of)".utf8))
        drew = true
    }

    func note(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)\n".utf8))
    }

    func finish() {
        if drew { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
