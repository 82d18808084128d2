import Foundation
@testable import FledgeRL

/// The calculator as an environment whose calls first sleep, for `delay(rollout, call)` seconds (`call` numbering the
/// rollout's calls from 0), so that a test can make tools answer late, early and in any order.
final class DelayedCalculator: Environment, @unchecked Sendable {
    typealias Delay = @Sendable (_ rollout: Int, _ call: Int) -> Double

    /// Delay patterns: no delay, the early rollouts slowest, the late ones slowest, and scattered over rollouts and
    /// calls.
    static let patterns: [(name: String, delay: Delay)] = [
        ("instant", { _, _ in 0 }),
        ("early rollouts slowest", { rollout, _ in 0.004 * Double(7 - rollout % 8) }),
        ("late rollouts slowest", { rollout, _ in 0.004 * Double(rollout % 8) }),
        ("scattered", { rollout, call in 0.006 * Double((rollout * 7 + call * 3 + 1) % 5) }),
    ]

    private let delay: Delay
    private let lock = NSLock()
    private var callsByRollout: [Int: Int] = [:]

    init(delay: @escaping Delay) { self.delay = delay }

    /// Calls made, over every rollout.
    var calls: Int {
        lock.lock()
        defer { lock.unlock() }
        return callsByRollout.values.reduce(0, +)
    }

    func reset(rollout: Int, row: JSONObject) throws -> EpisodeStart { EpisodeStart(tools: [Calculator().definition]) }

    func call(rollout: Int, name: String, arguments: JSONValue) throws -> ToolOutcome {
        lock.lock()
        let number = callsByRollout[rollout, default: 0]
        callsByRollout[rollout] = number + 1
        lock.unlock()
        let seconds = delay(rollout, number)
        if seconds > 0 { Thread.sleep(forTimeInterval: seconds) }
        return try Calculator().call(arguments: arguments)
    }

    func reward(rollout: Int) throws -> Double? { nil }
}
