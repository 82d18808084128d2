// swift-tools-version: 6.0
import PackageDescription

/// libFuzzer targets for the parsers of untrusted input, kept apart from the main package so that
/// its `swift build` and `swift test` are untouched. Build and run them with `Scripts/fuzz/run.sh`,
/// which compiles everything with `-sanitize=fuzzer,address` (see Fuzz/README.md).
let fuzzTargets: [(name: String, library: String)] = [
    ("safetensors-header", "FledgeTensor"),
    ("gguf", "FledgeLM"),
    ("gguf-config", "FledgeLM"),
    ("model-weights", "FledgeLM"),
    ("json", "FledgeLM"),
    ("model-config", "FledgeLM"),
    ("adapter-config", "FledgeLM"),
    ("tokenizer", "FledgeLM"),
    ("chat-template", "FledgeLM"),
    ("tool-call", "FledgeLM"),
    ("config", "FledgeRL"),
    ("dataset-row", "FledgeRL"),
    ("calculator", "FledgeRL"),
    ("parquet", "FledgeData"),
    ("arrow-ipc", "FledgeData"),
    ("csv", "FledgeData"),
    ("run-logs", "FledgeRL"),
]

let package = Package(
    name: "FledgeFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Fledge", path: "..")],
    targets: [
        .target(name: "CLibFuzzer"),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
    ] + fuzzTargets.map { target in
        .executableTarget(
            name: target.name,
            dependencies: ["FuzzSupport", .product(name: target.library, package: "Fledge")])
    },
    swiftLanguageModes: [.v6]
)
