import Foundation
import XCTest
@testable import FledgeHub

final class HubEnvironmentTests: XCTestCase {
    func testCacheFolderFollowsHuggingFaceHubPrecedence() {
        let home = FileManager.default.homeDirectoryForCurrentUser.path
        XCTAssertEqual(HubEnvironment(variables: [:]).cacheDirectory.path, home + "/.cache/huggingface/hub")
        XCTAssertEqual(HubEnvironment(variables: ["XDG_CACHE_HOME": "/x"]).cacheDirectory.path, "/x/huggingface/hub")
        XCTAssertEqual(HubEnvironment(variables: ["HF_HOME": "/h", "XDG_CACHE_HOME": "/x"]).cacheDirectory.path, "/h/hub")
        XCTAssertEqual(HubEnvironment(variables: ["HF_HUB_CACHE": "/c", "HF_HOME": "/h"]).cacheDirectory.path, "/c")
    }

    func testEndpointTokenAndOffline() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-hf-home-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: home) }
        try "hf_file\n".write(to: home.appendingPathComponent("token"), atomically: true, encoding: .utf8)
        let fromFile = HubEnvironment(variables: ["HF_HOME": home.path])
        XCTAssertEqual(fromFile.token, "hf_file")
        XCTAssertEqual(fromFile.endpoint, "https://huggingface.co")
        XCTAssertFalse(fromFile.offline)
        let set = HubEnvironment(variables: ["HF_HOME": home.path, "HF_TOKEN": "hf_env", "HF_ENDPOINT": "http://mirror:8080/",
                                             "HF_HUB_OFFLINE": "yes"])
        XCTAssertEqual(set.token, "hf_env")
        XCTAssertEqual(set.endpoint, "http://mirror:8080")
        XCTAssertTrue(set.offline)
        XCTAssertFalse(HubEnvironment(variables: ["HF_HUB_OFFLINE": "0"]).offline)
    }

    func testRepoIdsAndFolderNames() throws {
        XCTAssertEqual(try HubRepo(id: "Qwen/Qwen2.5-0.5B-Instruct", kind: .model).folderName, "models--Qwen--Qwen2.5-0.5B-Instruct")
        XCTAssertEqual(try HubRepo(id: "openai/gsm8k", kind: .dataset).folderName, "datasets--openai--gsm8k")
        XCTAssertEqual(try HubRepo(id: "gpt2", kind: .model).folderName, "models--gpt2")
        for bad in ["a/b/c", "./model", "/abs/path", "a--b/c", "a/..b", "", "a b/c", "-a/b"] {
            XCTAssertFalse(HubRepo.isValidId(bad), bad)
        }
        XCTAssertEqual(HubRepo.splitRevision("org/name@refs/pr/1").revision, "refs/pr/1")
        XCTAssertEqual(HubDownloader.quote("refs/pr/1", keepSlash: false), "refs%2Fpr%2F1")
        XCTAssertEqual(HubDownloader.normalizeETag("W/\"abc\""), "abc")
    }

    func testModelSelectionTakesTopLevelConfigTokenizerTemplateAndWeights() {
        let selected = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                        "model.safetensors.index.json", "model.safetensors", "model-00001-of-00002.safetensors", "README.md",
                        "pytorch_model.bin", "consolidated.safetensors", "onnx/model.onnx", "original/params.json", "model.gguf"]
            .filter(HubFileSelection.model.matches)
        XCTAssertEqual(selected, ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
                                  "chat_template.jinja", "model.safetensors.index.json", "model.safetensors"])
        XCTAssertTrue(HubFileSelection(patterns: ["data/"]).matches("data/train/part-0.parquet"))
        XCTAssertTrue(HubFileSelection(patterns: ["*.parquet"]).matches("data/train-0.parquet"))
    }

    func testBlobLockWaitsForAnotherHolderAndThenGivesUp() throws {
        let lock = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-lock-\(UUID().uuidString)/etag.lock")
        defer { try? FileManager.default.removeItem(at: lock.deletingLastPathComponent()) }
        var ran = false
        try BlobLock.holding(lock, timeout: 1) { ran = true }
        XCTAssertTrue(ran)
        let other = open(lock.path, O_RDWR)  // another open file description, as another process would have
        defer { close(other) }
        XCTAssertEqual(flock(other, LOCK_EX | LOCK_NB), 0)
        XCTAssertThrowsError(try BlobLock.holding(lock, timeout: 0.3) { XCTFail("ran without the lock") }) { error in
            XCTAssertEqual(error as? HubError, .lockTimeout(path: lock.path, seconds: 0.3))
            XCTAssertTrue("\(error)".contains("another process held \(lock.path) for 0.3 s"), "\(error)")
        }
        flock(other, LOCK_UN)
        ran = false
        try BlobLock.holding(lock, timeout: 1) { ran = true }
        XCTAssertTrue(ran)
    }
}
