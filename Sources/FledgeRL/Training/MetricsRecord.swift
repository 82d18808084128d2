import FledgeLM

/// One logged line: the step and named values, in the order they were added.
///
/// Written as one JSON object per line of `metrics.jsonl` and as an entry of `trainer_state.json`'s
/// `log_history`. A value that is NaN or infinite is written as `null`.
public struct MetricsRecord: Sendable, Equatable {
    /// The optimizer step the record belongs to (`global_step` after the step).
    public var step: Int
    /// Named values in order (`epoch`, `loss`, `learning_rate` …, then the algorithm's metrics).
    public private(set) var values: [(name: String, value: Double)]

    public init(step: Int, values: [(name: String, value: Double)] = []) {
        self.step = step
        self.values = values
    }

    /// The value called `name`, if present.
    public subscript(name: String) -> Double? {
        values.first { $0.name == name }?.value
    }

    /// Adds (or replaces) a value.
    public mutating func set(_ name: String, _ value: Double) {
        if let index = values.firstIndex(where: { $0.name == name }) {
            values[index].value = value
        } else {
            values.append((name, value))
        }
    }

    /// The record as a JSON object: `step` first, then the values in order.
    public var json: JSONValue {
        var object = JSONObject([("step", .int(step))])
        for (name, value) in values { object[name] = value.isFinite ? .double(value) : .null }
        return .object(object)
    }

    /// The record in a JSON object written by `json`; `source` names the file in errors.
    public init(json: JSONValue, source: String) throws(TrainingError) {
        guard case .object(let object) = json, case .int(let step)? = object["step"] else {
            throw .checkpoint(path: source, problem: "a log entry has no integer 'step': \(JSONWriter().string(json))")
        }
        self.step = step
        values = []
        for (name, value) in object.entries where name != "step" {
            switch value {
            case .int(let number): values.append((name, Double(number)))
            case .double(let number): values.append((name, number))
            case .null: values.append((name, .nan))
            default: throw .checkpoint(path: source, problem: "log entry of step \(step): '\(name)' is \(value.kind), not a number")
            }
        }
    }

    public static func == (left: MetricsRecord, right: MetricsRecord) -> Bool {
        left.step == right.step && left.values.count == right.values.count
            && zip(left.values, right.values).allSatisfy { $0.name == $1.name && ($0.value == $1.value || ($0.value.isNaN && $1.value.isNaN)) }
    }
}
