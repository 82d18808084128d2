import FledgeTensor

/// The demo's task: add two numbers written in decimal, e.g. the prompt `37+58=` with the
/// answer `95`. Answers are checkable, and a tiny model learns the task imperfectly from a few
/// minutes of supervised training (carries are the hard part), which leaves room for RL.
public struct ArithmeticTask: Sendable {
    /// One problem: the prompt text and the expected answer text.
    public struct Problem: Sendable, Equatable {
        public let prompt: String
        public let answer: String
    }

    /// The largest operand (operands are drawn uniformly from 0…maxOperand).
    public let maxOperand: Int

    public init(maxOperand: Int = 99) {
        self.maxOperand = maxOperand
    }

    /// The characters prompts and answers are written with.
    public static let alphabet = Array("0123456789+=")

    /// The problem `a+b=`.
    public func problem(_ a: Int, _ b: Int) -> Problem {
        Problem(prompt: "\(a)+\(b)=", answer: "\(a + b)")
    }

    /// `count` problems drawn with `seed`. Problems drawn with different seeds may repeat; use
    /// `split(seed:train:heldOut:)` for disjoint sets.
    public func problems(count: Int, seed: UInt64) -> [Problem] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { _ in
            problem(Int.random(in: 0...maxOperand, using: &generator), Int.random(in: 0...maxOperand, using: &generator))
        }
    }

    /// Disjoint training and held-out problem sets: held-out pairs `(a, b)` never appear in the
    /// training set, in either order.
    public func split(seed: UInt64, train: Int, heldOut: Int) -> (train: [Problem], heldOut: [Problem]) {
        var generator = SeededGenerator(seed: seed)
        var pairs: [(Int, Int)] = []
        for a in 0...maxOperand { for b in a...maxOperand { pairs.append((a, b)) } }
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
