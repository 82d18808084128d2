import Foundation
import XCTest
@testable import FledgeRL

/// A test case with a fresh temporary `directory`, removed after each test.
class TemporaryDirectoryTestCase: XCTestCase {
    private(set) var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-rl-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try FileManager.default.removeItem(at: directory)
    }

    /// Writes `rows` (JSON text, one per line) to a file in `directory`.
    func writeLines(_ rows: [String], to name: String) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try (rows.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }
}

/// The SFT fixtures written by `Scripts/reference/make_sft_fixtures.py`.
enum SFTFixtures {
    static var directory: URL { fixtureURL("sft") }
    static var modelDirectory: URL { directory.appendingPathComponent("model") }

    static func expected() throws -> JSONValue {
        try JSONParser.parse([UInt8](Data(contentsOf: directory.appendingPathComponent("expected.json"))))
    }

    static func tokenizer() throws -> Tokenizer { try Tokenizer(directory: modelDirectory.path) }

    /// The fixture model, loaded afresh (its float32 weights are private copy-on-write mappings, so
    /// training one copy never changes the file or another copy).
    static func model() throws -> LanguageModel { try LanguageModel(directory: modelDirectory) }
}

extension JSONValue {
    var ints: [Int] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap { if case .int(let value) = $0 { value } else { nil } }
    }

    var doubles: [Double] {
        guard case .array(let items) = self else { return [] }
        return items.compactMap {
            switch $0 {
            case .int(let value): Double(value)
            case .double(let value): value
            default: nil
            }
        }
    }

    var list: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}

/// Full fine-tuning of a loaded model, saving every weight as float32 `model.safetensors`.
class FullFineTune: TrainableModel {
    let model: LanguageModel
    let trainableParameters: [Parameter]

    init(_ model: LanguageModel) {
        self.model = model
        trainableParameters = model.namedWeights.map { name, tensor in
            tensor.requiresGrad = true
            return Parameter(name: name, tensor: tensor)
        }
    }

    func saveTrainedWeights(to directory: URL) throws {
        try SafeTensorsWriter.write(trainableParameters.map { ($0.name, $0.tensor) },
                                    to: directory.appendingPathComponent("model.safetensors"))
    }

    func loadTrainedWeights(from directory: URL) throws {
        let file = try SafeTensorsFile(url: directory.appendingPathComponent("model.safetensors"))
        for parameter in trainableParameters {
            let saved = try file.tensor(parameter.name).toArray()
            parameter.tensor.withUnsafeMutableElements { values in
                for i in values.indices { values[i] = saved[i] }
            }
        }
    }

    var randomStates: [String: UInt64] { [:] }
    func restoreRandomStates(_ states: [String: UInt64]) throws {}

    /// The largest absolute difference between any weight of this model and the same of `other`.
    func maxDifference(to other: FullFineTune) -> Float {
        zip(trainableParameters, other.trainableParameters).reduce(0) { worst, pair in
            precondition(pair.0.name == pair.1.name, "parameters in different orders")
            return max(worst, maxAbsDifference(pair.0.tensor.toArray(), pair.1.tensor.toArray()))
        }
    }
}

/// SGD with heavy-ball momentum, PyTorch's update (`b = μb + g; w -= lr·b`); its momentum buffers
/// are optimizer state that a resume must restore.
final class MomentumSGD: Optimizer {
    let parameters: [Parameter]
    let momentum: Float
    private(set) var stepCount = 0
    private var buffers: [String: [Float]] = [:]

    init(parameters: [Parameter], momentum: Float) {
        self.parameters = parameters
        self.momentum = momentum
    }

    func step(learningRate: Double) {
        for parameter in parameters {
            guard let grad = parameter.tensor.grad?.toArray() else { continue }
            var buffer = buffers[parameter.name] ?? Array(repeating: 0, count: grad.count)
            for i in grad.indices { buffer[i] = momentum * buffer[i] + grad[i] }
            buffers[parameter.name] = buffer
            parameter.tensor.withUnsafeMutableElements { values in
                for i in values.indices { values[i] -= Float(learningRate) * buffer[i] }
            }
        }
        stepCount += 1
    }

    func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)] {
        buffers.keys.sorted().map { ($0, .float(Tensor(shape: [buffers[$0]!.count], values: buffers[$0]!), .float32)) }
            + [("step", .integers([stepCount], shape: [1], .int64))]
    }

    func loadState(from file: SafeTensorsFile) throws {
        stepCount = try file.integers("step")[0]
        buffers = [:]
        for name in file.names where name != "step" { buffers[name] = try file.tensor(name).toArray() }
    }

    var stateBytes: Int { buffers.values.reduce(0) { $0 + $1.count * 4 } }
}

/// An optimizer that only records the gradients of its last step, by parameter name.
final class GradientRecorder: Optimizer {
    let parameters: [Parameter]
    private(set) var stepCount = 0
    private(set) var gradients: [String: [Float]] = [:]

    init(parameters: [Parameter]) { self.parameters = parameters }

    func step(learningRate: Double) {
        for parameter in parameters { gradients[parameter.name] = parameter.tensor.grad?.toArray() }
        stepCount += 1
    }

    func stateEntries() -> [(name: String, entry: SafeTensorsWriter.Entry)] { [] }
    func loadState(from file: SafeTensorsFile) throws {}
    var stateBytes: Int { 0 }
}

/// Records the progress it is told about, and asks for a stop at a given step.
final class RecordingObserver: TrainingObserver {
    var steps: [Int] = []
    var records: [MetricsRecord] = []
    var saved: [URL] = []
    var stopAt: Int?
    weak var stopRequest: StopRequest?

    func trainingDidStep(_ progress: StepProgress) {
        steps.append(progress.step)
        if progress.step == stopAt { stopRequest?.request() }
    }

    func trainingDidLog(_ record: MetricsRecord) { records.append(record) }
    func trainingDidSave(checkpoint: URL) { saved.append(checkpoint) }
}

/// Largest absolute difference of two equally long arrays.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) and \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
