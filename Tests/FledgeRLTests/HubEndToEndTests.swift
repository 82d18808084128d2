import FledgeData
import FledgeHub
import FledgeTestSupport
import Foundation
import XCTest
@testable import FledgeRL

/// A TRL-style GRPO config whose `model_name_or_path` and `dataset_name` are both Hub ids, run by the
/// `fledge` executable against a fake Hub (`FakeHub` on a local server) from an empty cache, and again
/// with the server stopped and `HF_HUB_OFFLINE=1`. The model repo holds the demo model; the dataset repo
/// a README.md with two configs and one Parquet shard each, of which only the chosen config's is fetched.
final class HubEndToEndTests: TemporaryDirectoryTestCase {
    static let modelId = "fledge-demo/arithmetic"
    static let datasetId = "fledge-demo/arithmetic-prompts"
    static let modelCommit = String(repeating: "c", count: 40)
    static let datasetCommit = String(repeating: "d", count: 40)
    static let trainShard = "main/train-00000-of-00001.parquet"
    static let otherShard = "other/train-00000-of-00001.parquet"
    static let readme = """
        ---
        configs:
        - config_name: main
          data_files:
          - split: train
            path: main/train-*.parquet
        - config_name: other
          data_files: other/*.parquet
        ---
        # Arithmetic prompts
        """

    /// The fake Hub with the demo model as `modelId` and the fixture Parquet file in `datasetId`.
    private func makeHub() throws -> FakeHub {
        let modelFolder = GRPOTrainingTests.modelDirectory
        var modelFiles: [String: [UInt8]] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: modelFolder.path) {
            modelFiles[name] = Array(try Data(contentsOf: modelFolder.appendingPathComponent(name)))
        }
        let parquet = Array(try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hub/train-00000-of-00001.parquet")))
        let hub = FakeHub()
        hub.add("models/\(Self.modelId)", FakeHub.Repo(refs: ["main": Self.modelCommit], commits: [Self.modelCommit: modelFiles]))
        hub.add("datasets/\(Self.datasetId)", FakeHub.Repo(refs: ["main": Self.datasetCommit], commits: [Self.datasetCommit: [
            "README.md": Array(Self.readme.utf8), ".gitattributes": Array("*.parquet filter=lfs\n".utf8),
            Self.trainShard: parquet, Self.otherShard: parquet,
        ]]))
        return hub
    }

    /// The GRPO config of a TRL script, with Hub ids, 2 steps of 4 completions on the demo's `answer` reward.
    private func writeConfig() throws -> URL {
        try writeLines([
            "trainer: grpo", "model_name_or_path: \(Self.modelId)", "dataset_name: \(Self.datasetId)", "dataset_config: main",
            "dataset_train_split: train", "use_peft: true", "lora_target_modules: all-linear", "lora_dropout: 0",
            "reward_funcs: [answer]", "per_device_train_batch_size: 4", "num_generations: 4", "max_completion_length: 4",
            "learning_rate: 0.003", "beta: 0.04", "logging_steps: 1", "save_strategy: \"no\"", "max_steps: 2",
        ], to: "hub-grpo.yaml")
    }

    /// The `loss` of each logged step of the run in `output`.
    private func losses(_ output: URL) throws -> [Double] {
        let text = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").compactMap { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["loss"] as? Double
        }
    }

    func testGRPOConfigWithHubIdsRunsFromAnEmptyCacheThenOffline() throws {
        let hub = try makeHub()
        let server = try LocalHTTPServer { hub.handle($0) }
        var serverRunning = true
        defer { if serverRunning { server.stop() } }
        let cache = directory.appendingPathComponent("hf-cache")
        let config = try writeConfig()
        let online = ["HF_HUB_CACHE": cache.path, "HF_ENDPOINT": server.baseURL, "HF_HUB_OFFLINE": "0", "HF_TOKEN": ""]
        let first = directory.appendingPathComponent("online")
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(first.path)"], environment: online)
        XCTAssertEqual(try losses(first).count, 2)

        let datasetFiles = server.requests.map(\.path).filter { $0.hasPrefix("/datasets/\(Self.datasetId)/resolve/") }
        let readmeRequest = datasetFiles.firstIndex { $0.hasSuffix("/README.md") }
        let shardRequest = datasetFiles.firstIndex { $0.hasSuffix("/" + Self.trainShard) }
        XCTAssertNotNil(readmeRequest, "\(datasetFiles)")
        XCTAssertNotNil(shardRequest, "\(datasetFiles)")
        XCTAssertLessThan(readmeRequest ?? 1, shardRequest ?? 0, "README.md is read before the data files")
        XCTAssertFalse(datasetFiles.contains { $0.hasSuffix("/" + Self.otherShard) || $0.hasSuffix("/.gitattributes") }, "\(datasetFiles)")
        let snapshot = cache.appendingPathComponent("datasets--fledge-demo--arithmetic-prompts/snapshots/\(Self.datasetCommit)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: snapshot.appendingPathComponent(Self.trainShard).path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: snapshot.appendingPathComponent(Self.otherShard).path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: cache.path + "/models--fledge-demo--arithmetic/snapshots/"
            + Self.modelCommit + "/model.safetensors"))

        server.stop()
        serverRunning = false
        let offline = online.merging(["HF_HUB_OFFLINE": "1"]) { $1 }
        let second = directory.appendingPathComponent("offline")
        try runFledge(["grpo", "--config", config.path, "--set", "output_dir=\(second.path)"], environment: offline)
        XCTAssertEqual(try losses(second), try losses(first), "the same files give the same run")

        let shown = try runFledge(["data", "show", Self.datasetId, "--config", "main", "--json"], environment: offline).output
        let prompts = try shown.split(separator: "\n").map { line in
            (try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["prompt"] as? String
        }
        XCTAssertEqual(prompts, ["37+58=", "12+9=", "40+44=", "8+77=", "61+25=", "3+3=", "19+82=", "50+47="])
        let info = try runFledge(["data", "info", Self.datasetId, "--config", "main"], environment: offline).output
        XCTAssertTrue(info.contains("train"), info)
    }

    func testHubDatasetErrorsNameTheIdRevisionAndFix() throws {
        let hub = try makeHub()
        let server = try LocalHTTPServer { hub.handle($0) }
        defer { server.stop() }
        let cache = directory.appendingPathComponent("hf-cache")
        let environment = HubEnvironment(cacheDirectory: cache, endpoint: server.baseURL)
        let offline = HubEnvironment(cacheDirectory: cache, endpoint: server.baseURL, offline: true)
        XCTAssertThrowsError(try DatasetLocation.resolve(Self.datasetId, config: "main", environment: offline)) { error in
            XCTAssertTrue("\(error)".contains("dataset \(Self.datasetId) (revision main) is not in the Hugging Face cache"), "\(error)")
            XCTAssertTrue("\(error)".contains("--repo-type dataset"), "\(error)")
        }
        XCTAssertThrowsError(try DatasetLocation.resolve(Self.datasetId, config: nil, environment: environment)) { error in
            XCTAssertTrue("\(error)".contains("dataset \(Self.datasetId) (revision main): the dataset has several configs "
                + "(main, other) and none is the default; set dataset_config"), "\(error)")
        }
        XCTAssertThrowsError(try DatasetLocation.resolve(Self.datasetId + "@v9", config: "main", environment: environment)) { error in
            XCTAssertTrue("\(error)".contains("has no revision 'v9'"), "\(error)")
            XCTAssertTrue("\(error)".contains("looked up as a Hub dataset id"), "\(error)")
        }
        XCTAssertThrowsError(try DatasetLocation.resolve("fledge-demo/missing", config: nil, environment: environment)) { error in
            XCTAssertTrue("\(error)".contains("dataset fledge-demo/missing"), "\(error)")
        }
        let repository = try DatasetLocation.resolve(Self.datasetId, config: "main", environment: environment)
        XCTAssertEqual(repository.config, "main")
        XCTAssertEqual(try repository.split("train").rows.count, 8)
        let cached = try DatasetLocation.resolve(Self.datasetId, config: "main", environment: offline)
        XCTAssertEqual(cached.location.path, repository.location.path)
        XCTAssertThrowsError(try DatasetLocation.resolve(Self.datasetId, config: "other", environment: offline)) { error in
            XCTAssertTrue("\(error)".contains("config other, split train: no file matches other/*.parquet (read from the cache "
                + "without the Hub: the files of this config may never have been downloaded"), "\(error)")
        }
    }
}
