import Foundation
import XCTest
@testable import FledgeHub
import FledgeTestSupport

/// Downloads from a local server that answers like the Hub (`FakeHub`), into a temporary cache.
final class HubDownloadTests: XCTestCase {
    static let commitA = String(repeating: "a", count: 38) + "01"
    static let commitB = String(repeating: "b", count: 38) + "02"
    static let weights = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) }

    static func modelFiles(config: String) -> [String: [UInt8]] {
        [
            "config.json": Array(config.utf8), "tokenizer.json": Array("{\"model\": {}}".utf8),
            "chat_template.jinja": Array("{{ messages }}".utf8), "model.safetensors": weights,
            "README.md": Array("# tiny".utf8), "onnx/model.json": Array("{}".utf8),
        ]
    }

    /// A fresh fake Hub holding `org/tiny` (main at commit B, tag v1 at commit A; private when `token`),
    /// its server, and an empty cache folder, for `body`.
    func withHub(token: String? = nil, _ body: (FakeHub, LocalHTTPServer, URL) throws -> Void) throws {
        let hub = FakeHub()
        hub.add("models/org/tiny", FakeHub.Repo(
            refs: ["main": Self.commitB, "v1": Self.commitA],
            commits: [Self.commitA: Self.modelFiles(config: "{\"version\": 1}"), Self.commitB: Self.modelFiles(config: "{\"version\": 2}")],
            token: token))
        hub.add("datasets/org/gsm", FakeHub.Repo(
            refs: ["main": Self.commitA],
            commits: [Self.commitA: ["README.md": Array("---\nconfigs: []\n---".utf8), "main/train-00000-of-00001.parquet": Self.weights]]))
        let server = try LocalHTTPServer { hub.handle($0) }
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-hub-\(UUID().uuidString)")
        defer {
            server.stop()
            try? FileManager.default.removeItem(at: cache)
        }
        try body(hub, server, cache)
    }

    func environment(_ server: LocalHTTPServer, _ cache: URL, token: String? = nil, offline: Bool = false) -> HubEnvironment {
        HubEnvironment(cacheDirectory: cache, endpoint: server.baseURL, token: token, offline: offline)
    }

    func text(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

    func testModelIsDownloadedInTheHubLayoutAndFoundOfflineAfterwards() throws {
        try withHub { _, server, cache in
            let folder = try ModelLocation.resolve("org/tiny", environment: environment(server, cache))
            let repoFolder = cache.appendingPathComponent("models--org--tiny")
            XCTAssertEqual(folder.path, repoFolder.appendingPathComponent("snapshots/\(Self.commitB)").path)
            XCTAssertEqual(try text(repoFolder.appendingPathComponent("refs/main")), Self.commitB)
            XCTAssertEqual(try text(folder.appendingPathComponent("config.json")), "{\"version\": 2}")
            XCTAssertEqual(Array(try Data(contentsOf: folder.appendingPathComponent("model.safetensors"))), Self.weights)
            XCTAssertEqual(try text(folder.appendingPathComponent("chat_template.jinja")), "{{ messages }}")
            for skipped in ["README.md", "onnx/model.json"] {
                XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent(skipped).path), skipped)
            }
            let sha = FakeHub.digest(Self.weights, hexDigits: 64)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: folder.appendingPathComponent("model.safetensors").path),
                           "../../blobs/\(sha)")
            let blobs = try FileManager.default.contentsOfDirectory(atPath: repoFolder.appendingPathComponent("blobs").path)
            XCTAssertEqual(Set(blobs), [sha, FakeHub.digest(Array("{\"version\": 2}".utf8), hexDigits: 40),
                                        FakeHub.digest(Array("{\"model\": {}}".utf8), hexDigits: 40),
                                        FakeHub.digest(Array("{{ messages }}".utf8), hexDigits: 40)])
            XCTAssertTrue(FileManager.default.fileExists(atPath: cache.appendingPathComponent(".locks/models--org--tiny/\(sha).lock").path))
            XCTAssertTrue(try text(cache.appendingPathComponent("CACHEDIR.TAG")).hasPrefix("Signature: 8a477f597d28d172789f06886806bc55\n"))

            let asked = server.requests.count
            XCTAssertEqual(try ModelLocation.resolve("org/tiny", environment: environment(server, cache)), folder)
            XCTAssertEqual(server.requests.count, asked, "a cached model is found without the network")
            server.stop()
            XCTAssertEqual(try ModelLocation.resolve("org/tiny", environment: environment(server, cache, offline: true)), folder)
            XCTAssertEqual(ModelLocation.cached("org/tiny", environment: environment(server, cache)), folder)
        }
    }

    func testTokenizerAloneSkipsTheWeightsWhichAModelLoadFetchesLater() throws {
        try withHub { _, server, cache in
            let online = environment(server, cache)
            let tokenizerFolder = try ModelLocation.resolve("org/tiny", weights: false, environment: online)
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: tokenizerFolder.path).sorted(),
                           ["chat_template.jinja", "config.json", "tokenizer.json"])
            XCTAssertFalse(server.requests.contains { $0.path.hasPrefix("/cdn/") })
            let folder = try ModelLocation.resolve("org/tiny", environment: online)
            XCTAssertEqual(folder, tokenizerFolder)
            XCTAssertEqual(Array(try Data(contentsOf: folder.appendingPathComponent("model.safetensors"))), Self.weights)
        }
    }

    func testShardedModelGetsTheShardsItsIndexListsAndNoOtherWeights() throws {
        try withHub { hub, server, cache in
            let index = #"{"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors", "c": "model-00001-of-00002.safetensors"}}"#
            hub.add("models/org/sharded", FakeHub.Repo(refs: ["main": Self.commitA], commits: [Self.commitA: [
                "config.json": Array("{}".utf8), "model.safetensors.index.json": Array(index.utf8),
                "model-00001-of-00002.safetensors": Array(Self.weights.prefix(3000)),
                "model-00002-of-00002.safetensors": Array(Self.weights.suffix(2000)),
                "consolidated.safetensors": Self.weights,
            ]]))
            let folder = try ModelLocation.resolve("org/sharded", environment: environment(server, cache))
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), [
                "config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json",
            ])
            XCTAssertEqual(Array(try Data(contentsOf: folder.appendingPathComponent("model-00002-of-00002.safetensors"))),
                           Array(Self.weights.suffix(2000)))
            let asked = server.requests.count
            XCTAssertEqual(try ModelLocation.resolve("org/sharded", environment: environment(server, cache, offline: true)), folder)
            XCTAssertEqual(server.requests.count, asked)
            try FileManager.default.removeItem(at: folder.appendingPathComponent("model-00002-of-00002.safetensors"))
            XCTAssertThrowsError(try ModelLocation.resolve("org/sharded", environment: environment(server, cache, offline: true))) { error in
                XCTAssertTrue("\(error)".contains("holding model-00001-of-00002.safetensors, model-00002-of-00002.safetensors"), "\(error)")
            }
            XCTAssertEqual(try ModelLocation.resolve("org/sharded", environment: environment(server, cache)), folder)
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("model-00002-of-00002.safetensors").path))
        }
    }

    func testDatasetIsDownloadedUnderItsOwnPrefix() throws {
        try withHub { _, server, cache in
            let repo = try HubRepo(id: "org/gsm", kind: .dataset)
            let folder = try HubDownloader(environment: environment(server, cache), showProgress: false)
                .snapshot(repo, files: HubFileSelection(patterns: ["main/"]))
            XCTAssertEqual(folder.path, cache.appendingPathComponent("datasets--org--gsm/snapshots/\(Self.commitA)").path)
            XCTAssertEqual(Array(try Data(contentsOf: folder.appendingPathComponent("main/train-00000-of-00001.parquet"))), Self.weights)
            XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(
                atPath: folder.appendingPathComponent("main/train-00000-of-00001.parquet").path),
                "../../../blobs/\(FakeHub.digest(Self.weights, hexDigits: 64))")
            XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("README.md").path))
            XCTAssertTrue(server.requests.contains { $0.path == "/api/datasets/org/gsm/revision/main" })
            XCTAssertTrue(server.requests.contains { $0.path.hasPrefix("/datasets/org/gsm/resolve/\(Self.commitA)/main/") })
        }
    }

    func testDownloadResumesAfterADroppedConnection() throws {
        try withHub { hub, server, cache in
            let repo = try HubRepo(id: "org/tiny", kind: .model)
            var once = HubDownloader(environment: environment(server, cache), showProgress: false)
            once.attempts = 1
            hub.dropNextDownload(after: 1200)
            XCTAssertThrowsError(try once.snapshot(repo, files: .model)) { error in
                guard case .connection = error as? HubError else { return XCTFail("\(error)") }
            }
            let sha = FakeHub.digest(Self.weights, hexDigits: 64)
            let incomplete = cache.appendingPathComponent("models--org--tiny/blobs/\(sha).incomplete")
            XCTAssertEqual(try Data(contentsOf: incomplete).count, 1200)

            let folder = try once.snapshot(repo, files: .model)
            XCTAssertEqual(Array(try Data(contentsOf: folder.appendingPathComponent("model.safetensors"))), Self.weights)
            XCTAssertEqual(server.requests.last { $0.path == "/cdn/\(sha)" }?.headers["range"], "bytes=1200-")
            XCTAssertEqual(server.requests.last { $0.path == "/cdn/\(sha)" }?.headers["accept-encoding"], "identity")
            XCTAssertFalse(FileManager.default.fileExists(atPath: incomplete.path))

            try FileManager.default.removeItem(at: cache)
            var retrying = HubDownloader(environment: environment(server, cache), showProgress: false)
            retrying.attempts = 2
            hub.dropNextDownload(after: 700)
            let again = try retrying.snapshot(repo, files: .model)
            XCTAssertEqual(Array(try Data(contentsOf: again.appendingPathComponent("model.safetensors"))), Self.weights)
            XCTAssertEqual(server.requests.last { $0.path == "/cdn/\(sha)" }?.headers["range"], "bytes=700-")
        }
    }

    func testPinnedRevisionIsItsOwnSnapshotAndRef() throws {
        try withHub { _, server, cache in
            let online = environment(server, cache)
            let tagged = try ModelLocation.resolve("org/tiny@v1", environment: online)
            XCTAssertEqual(tagged.lastPathComponent, Self.commitA)
            XCTAssertEqual(try text(tagged.appendingPathComponent("config.json")), "{\"version\": 1}")
            XCTAssertEqual(try text(cache.appendingPathComponent("models--org--tiny/refs/v1")), Self.commitA)
            XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("models--org--tiny/refs/main").path))
            XCTAssertEqual(try ModelLocation.resolve("org/tiny", revision: "v1", environment: online), tagged)

            let byCommit = try ModelLocation.resolve("org/tiny", revision: Self.commitB, environment: online)
            XCTAssertEqual(try text(byCommit.appendingPathComponent("config.json")), "{\"version\": 2}")
            XCTAssertFalse(FileManager.default.fileExists(atPath: cache.appendingPathComponent("models--org--tiny/refs/main").path),
                           "a commit hash writes no ref")
            let offline = environment(server, cache, offline: true)
            XCTAssertEqual(try ModelLocation.resolve("org/tiny@\(Self.commitA)", environment: offline), tagged)
            XCTAssertThrowsError(try ModelLocation.resolve("org/tiny@v1", revision: "main", environment: offline)) { error in
                XCTAssertTrue("\(error)".contains("give the revision once"), "\(error)")
            }
        }
    }

    func testPrivateRepositoryNeedsItsToken() throws {
        try withHub(token: "hf_secret") { _, server, cache in
            XCTAssertThrowsError(try ModelLocation.resolve("org/tiny", environment: environment(server, cache))) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("HTTP 401"), text)
                XCTAssertTrue(text.contains("model org/tiny"), text)
                XCTAssertTrue(text.contains("set HF_TOKEN"), text)
            }
            XCTAssertThrowsError(try ModelLocation.resolve("org/tiny", environment: environment(server, cache, token: "hf_wrong"))) { error in
                XCTAssertTrue("\(error)".contains("the token in HF_TOKEN"), "\(error)")
            }
            let folder = try ModelLocation.resolve("org/tiny", environment: environment(server, cache, token: "hf_secret"))
            XCTAssertEqual(try text(folder.appendingPathComponent("config.json")), "{\"version\": 2}")
            XCTAssertTrue(server.requests.filter { $0.path.hasPrefix("/api/") || $0.path.contains("/resolve/") }
                .allSatisfy { $0.headers["authorization"] == "Bearer hf_secret" || $0.headers["authorization"] == "Bearer hf_wrong" || $0.headers["authorization"] == nil })
            XCTAssertNil(server.requests.first { $0.path.hasPrefix("/cdn/") }?.headers["authorization"], "no token to another host's URL")
        }
    }

    func testMissingRepositoryRevisionAndFileAreNamed() throws {
        try withHub { _, server, cache in
            let online = environment(server, cache, token: "hf_any")
            XCTAssertThrowsError(try ModelLocation.resolve("org/absent", environment: online)) { error in
                XCTAssertEqual(error as? HubError, .repoNotFound(repo: try! HubRepo(id: "org/absent", kind: .model),
                                                                  url: server.baseURL + "/api/models/org/absent/revision/main",
                                                                  message: "Repository not found"))
                XCTAssertTrue("\(error)".contains("check the id"), "\(error)")
            }
            XCTAssertThrowsError(try ModelLocation.resolve("org/tiny", revision: "nope", environment: online)) { error in
                XCTAssertTrue("\(error)".contains("model org/tiny has no revision 'nope'"), "\(error)")
            }
            let downloader = HubDownloader(environment: online, showProgress: false)
            XCTAssertThrowsError(try downloader.fetch(try HubRepo(id: "org/tiny", kind: .model), commit: Self.commitB, file: "absent.json")) { error in
                XCTAssertTrue("\(error)".contains("has no file 'absent.json'"), "\(error)")
            }
            XCTAssertThrowsError(try downloader.snapshot(try HubRepo(id: "org/tiny", kind: .model), files: HubFileSelection(patterns: ["*.gguf"]))) { error in
                XCTAssertTrue("\(error)".contains("matches *.gguf"), "\(error)")
            }
        }
    }

    func testOfflineMissModelSaysWhereItLookedAndHowToFix() throws {
        try withHub { _, server, cache in
            XCTAssertThrowsError(try ModelLocation.resolve("org/tiny@v1", environment: environment(server, cache, offline: true))) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains(cache.appendingPathComponent("models--org--tiny/refs/v1").path), text)
                XCTAssertTrue(text.contains("fledge download org/tiny --revision v1"), text)
                XCTAssertTrue(text.contains("unset HF_HUB_OFFLINE"), text)
            }
            XCTAssertTrue(server.requests.isEmpty)
            XCTAssertThrowsError(try ModelLocation.resolve("./no/such/dir", environment: environment(server, cache))) { error in
                XCTAssertTrue("\(error)".contains("neither an existing local path nor a Hugging Face Hub id"), "\(error)")
            }
        }
    }

    func testUnreachableHubFallsBackToTheCacheForDownload() throws {
        try withHub { _, server, cache in
            let repo = try HubRepo(id: "org/tiny", kind: .model)
            let online = HubDownloader(environment: environment(server, cache), showProgress: false)
            let folder = try online.snapshot(repo, files: .model, preferCache: false)
            server.stop()
            XCTAssertEqual(try online.snapshot(repo, files: .model, preferCache: false), folder)
            XCTAssertThrowsError(try online.snapshot(try HubRepo(id: "org/other", kind: .model), files: .model)) { error in
                guard case .connection = error as? HubError else { return XCTFail("\(error)") }
                XCTAssertTrue("\(error)".contains("not cached either"), "\(error)")
            }
        }
    }
}
