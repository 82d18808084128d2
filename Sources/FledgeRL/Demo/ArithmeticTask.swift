import FledgeTensor

/// The demo's task: add two numbers written in decimal, e.g. the prompt `37+58=` with the
/// answer `95`. Answers are checkable, and a tiny model learns the task imperfectly from a few
/// minutes of supervised training (carries are the hard part), which leaves room for RL.
/// The agent demo multiplies 3-digit numbers instead (`123*456=`), which the model cannot do in
/// its head and a calculator does exactly.
public struct ArithmeticTask: Sendable {
    /// What a problem asks for.
    public enum Operation: Sendable {
        case addition, multiplication

        var symbol: String { self == .addition ? "+" : "*" }

        func apply(_ a: Int, _ b: Int) -> Int { self == .addition ? a + b : a * b }
    }

    /// One problem: the prompt text and the expected answer text.
    public struct Problem: Sendable, Equatable {
        public let prompt: String
        public let answer: String
    }

    /// The smallest and largest operands (operands are drawn uniformly from minOperand…maxOperand).
    public let minOperand: Int
    public let maxOperand: Int
    public let operation: Operation

    public init(minOperand: Int = 0, maxOperand: Int = 99, operation: Operation = .addition) {
        precondition(0 <= minOperand && minOperand <= maxOperand, "ArithmeticTask: operands range over \(minOperand)…\(maxOperand)")
        self.minOperand = minOperand
        self.maxOperand = maxOperand
        self.operation = operation
    }

    /// The characters prompts and answers are written with.
    public static let alphabet = Array("0123456789+=")

    /// The problem `a+b=` (or `a*b=`).
    public func problem(_ a: Int, _ b: Int) -> Problem {
        Problem(prompt: "\(a)\(operation.symbol)\(b)=", answer: "\(operation.apply(a, b))")
    }

    /// `count` problems drawn with `seed`. Problems drawn with different seeds may repeat; use
    /// `split(seed:train:heldOut:)` for disjoint sets.
    public func problems(count: Int, seed: UInt64) -> [Problem] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            problem(Int.random(in: minOperand...maxOperand, using: &generator), Int.random(in: minOperand...maxOperand, using: &generator))
        }
    }

    /// Disjoint training and held-out problem sets: held-out pairs `(a, b)` never appear in the
    /// training set, in either order.
    public func split(seed: UInt64, train: Int, heldOut: Int) -> (train: [Problem], heldOut: [Problem]) {
        var generator = SeededGenerator(seed: seed)
        var pairs: [(Int, Int)] = []
        for a in minOperand...maxOperand { for b in a...maxOperand { pairs.append((a, b)) } }
        pairs.shuffle(using: &generator)
        precondition(train + heldOut <= pairs.count, "ArithmeticTask: only \(pairs.count) distinct problems")
        func orient(_ pair: (Int, Int)) -> Problem {
            Bool.random(using: &generator) ? problem(pair.0, pair.1) : problem(pair.1, pair.0)
        }
        let heldOutSet = pairs.prefix(heldOut).map(orient)
        let trainSet = pairs.dropFirst(heldOut).prefix(train).map(orient)
        return (Array(trainSet), heldOutSet)
    }
}
