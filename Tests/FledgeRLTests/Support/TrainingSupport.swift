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

extension SFTConfig {
    /// TRL's defaults with `batchSize` rows per micro-batch, `evaluationBatchSize` rows per evaluation
    /// batch and the epoch shuffle seeded by `dataSeed`: the settings the SFT tests train with.
    static func batches(_ batchSize: Int, evaluation evaluationBatchSize: Int, dataSeed: Int) -> SFTConfig {
        var config = SFTConfig()
        config.training.perDeviceTrainBatchSize = batchSize
        config.training.perDeviceEvalBatchSize = evaluationBatchSize
        config.training.dataSeed = dataSeed
        return config
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

    /// The fixture model, loaded afresh.
    static func model() throws -> LanguageModel { try LanguageModel(directory: modelDirectory) }

    /// The fixture model with every weight trainable.
    static func fullyTrainableModel() throws -> LanguageModel {
        let model = try model()
        model.makeFullyTrainable()
        return model
    }
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

/// The largest absolute difference between the values of two lists of the same parameters.
func maxDifference(_ a: [Parameter], _ b: [Parameter]) -> Float {
    precondition(a.map(\.name) == b.map(\.name), "the parameter lists differ")
    return zip(a, b).reduce(0) { max($0, maxAbsDifference($1.0.tensor.toArray(), $1.1.tensor.toArray())) }
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
    var loggedCompletionSteps: [Int] = []
    var stopAt: Int?
    weak var stopRequest: StopRequest?

    func trainingDidStep(_ progress: StepProgress) {
        steps.append(progress.step)
        if progress.step == stopAt { stopRequest?.request() }
    }

    func trainingDidLog(_ record: MetricsRecord) { records.append(record) }
    func trainingDidSave(checkpoint: URL) { saved.append(checkpoint) }
    func trainingDidLogCompletions(_ log: CompletionLog, step: Int) { loggedCompletionSteps.append(step) }
}

extension Trainer {
    /// Trains with a ``RecordingObserver`` attached that requests a stop at the end of optimizer step
    /// `stopAt`, as Ctrl-C would (nil trains through).
    func trainRecording(stoppingAt stopAt: Int?) throws -> (outcome: TrainingOutcome, observer: RecordingObserver) {
        let observer = RecordingObserver()
        observer.stopAt = stopAt
        observer.stopRequest = stopRequest
        self.observer = observer
        return (try train(), observer)
    }
}

/// Largest absolute difference of two equally long arrays.
func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "compared arrays differ in length: \(a.count) and \(b.count)")
    return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}
