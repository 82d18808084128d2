import Foundation

/// Runs episodes' tool calls off the decoding thread, so that the model goes on decoding the other rows of a turn while
/// a row whose turn has ended waits for its tools (``EpisodeRunner``). The calls one turn of a row makes run one after
/// another, in order; calls of different rows run at once (``Toolbox`` lets each tool and the environment serve one
/// call at a time).
final class ToolCallQueue: @unchecked Sendable {
    /// What one turn's calls of one row gave: each call's outcome, in order, or the error that stopped them.
    struct Answer {
        let row: Int
        let turn: Int
        let outcomes: Result<[ToolOutcome], any Error>
    }

    private let toolbox: Toolbox
    private let condition = NSCondition()
    private var answers: [Answer] = []
    private var outstanding = 0

    init(toolbox: Toolbox) {
        self.toolbox = toolbox
    }

    /// Starts row `row`'s `calls` of turn `turn` in `episode`.
    func start(_ calls: [EpisodeRunner.ToolCall], row: Int, turn: Int, in episode: Episode) {
        condition.lock()
        outstanding += 1
        condition.unlock()
        DispatchQueue.global().async { [self] in
            let outcomes = Result { try calls.map { try toolbox.call($0.name, arguments: $0.arguments, in: episode) } }
            condition.lock()
            answers.append(Answer(row: row, turn: turn, outcomes: outcomes))
            outstanding -= 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits until every call started so far has answered, and returns the answers not taken before, in row order.
    /// What it returns depends on which calls were started, never on when they answered.
    func takeAll() -> [Answer] {
        condition.lock()
        defer { condition.unlock() }
        while outstanding > 0 { condition.wait() }
        let taken = answers.sorted { $0.row < $1.row }
        answers = []
        return taken
    }
}
