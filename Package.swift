// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Fledge",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "FledgeJSON", targets: ["FledgeJSON"]),
        .library(name: "FledgeHub", targets: ["FledgeHub"]),
        .library(name: "FledgeTensor", targets: ["FledgeTensor"]),
        .library(name: "FledgeNN", targets: ["FledgeNN"]),
        .library(name: "FledgeLM", targets: ["FledgeLM"]),
        .library(name: "FledgeData", targets: ["FledgeData"]),
        .library(name: "FledgeRL", targets: ["FledgeRL"]),
        .library(name: "FledgePlot", targets: ["FledgePlot"]),
        .executable(name: "fledge", targets: ["FledgeCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // The kernels are compiled optimised in every configuration: a debug build (what `swift test`
        // runs) otherwise spends most of its time in -O0 loops.
        .target(name: "CFledgeKernels", cSettings: [.unsafeFlags(["-O2"])]),
        // The package's one JSON reader and writer, with no dependencies, so that FledgePlot reads
        // metrics without linking the tensor engine; FledgeTensor re-exports it.
        .target(name: "FledgeJSON"),
        // The Hugging Face cache and downloads (URLSession from the toolchain's FoundationNetworking).
        .target(name: "FledgeHub", dependencies: ["FledgeJSON"]),
        .target(name: "FledgeTensor", dependencies: ["CFledgeKernels", "FledgeJSON"]),
        .target(name: "FledgeNN", dependencies: ["FledgeTensor"]),
        .target(name: "FledgeLM", dependencies: ["FledgeNN", "FledgeTensor"]),
        // Decompression for Parquet pages and Arrow IPC bodies, from the system's libraries (.ci/run
        // installs them: libsnappy-dev, libzstd-dev, zlib1g-dev).
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"]), .brew(["snappy"])]),
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"]), .brew(["zstd"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "FledgeData",
            dependencies: ["FledgeJSON", "CSnappy", "CZstd", "CZlib", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "FledgeRL",
            dependencies: ["FledgeData", "FledgeHub", "FledgeLM", "FledgeNN", "FledgeTensor", .product(name: "Yams", package: "Yams")]
        ),
        .target(name: "FledgePlot", dependencies: ["FledgeJSON"]),
        .executableTarget(
            name: "FledgeCLI",
            dependencies: [
                "FledgeRL", "FledgeLM", "FledgeNN", "FledgeTensor", "FledgePlot", "FledgeHub",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "fledge-library-example",
            dependencies: ["FledgeRL", "FledgeLM"],
            path: "examples/library"
        ),
        .testTarget(
            name: "FledgeTensorTests",
            dependencies: ["FledgeTensor"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "FledgeNNTests",
            dependencies: ["FledgeNN"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "FledgeLMTests",
            dependencies: ["FledgeLM"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "FledgeRLTests",
            dependencies: ["FledgeRL", "FledgeHub", "FledgeTestSupport"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "FledgeDataTests",
            dependencies: ["FledgeData"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "FledgeHubTests",
            dependencies: ["FledgeHub", "FledgeTestSupport"]
        ),
        // What the Hub tests and the end-to-end training tests share: a local HTTP server and a fake Hub.
        .target(
            name: "FledgeTestSupport",
            dependencies: ["FledgeJSON"],
            path: "Tests/FledgeTestSupport"
        ),
        .testTarget(
            name: "FledgePlotTests",
            dependencies: ["FledgePlot"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
