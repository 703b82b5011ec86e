// swift-tools-version: 6.1
import PackageDescription

// Dependencies are chosen for build time on small CI machines: argument parsing, swift-log and
// swift-service-lifecycle (SHA-256 comes from the system's libcrypto). ONNX Runtime is loaded at run time (dlopen), image codecs are Debian's
// C libraries, so `swift build` needs no network beyond the local package mirror.
let package = Package(
  name: "Swapline",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "swapline", targets: ["swapline"]),
    .library(name: "Swapline", targets: ["OnnxRuntime", "Imaging", "Models", "FaceAnalysis", "Processors", "Media", "Jobs", "ObjectStorage", "Pipeline", "Swapping"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    // Logging and graceful shutdown: small, no NIO (the HTTP API brings that).
    .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    // The HTTP API (`swapline serve`) and the metrics endpoint. Its default traits (swift-configuration,
    // full Foundation extras) are off: nothing here uses them and they cost build time.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
  ],
  targets: [
    // Our own minimal declaration of the ONNX Runtime C API plus the dlopen loader.
    .target(name: "COnnxRuntime", linkerSettings: [.linkedLibrary("dl")]),
    .target(name: "OnnxRuntime", dependencies: ["COnnxRuntime"]),
    // Thin C shim over libpng, libturbojpeg and libwebp (Debian -dev packages).
    .target(
      name: "CImageCodecs",
      linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("turbojpeg"), .linkedLibrary("webp")]
    ),
    .target(name: "Imaging", dependencies: ["CImageCodecs", "Digests"]),
    // SHA-256 from the system's libcrypto (Debian's libssl-dev), not swift-crypto, whose own
    // BoringSSL (about 360 C files) added a minute or more to every clean build.
    .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL"),
    .target(name: "Digests", dependencies: ["COpenSSL"]),
    .target(name: "Models", dependencies: ["Digests"]),
    .target(name: "FaceAnalysis", dependencies: ["OnnxRuntime", "Imaging", "Models"]),
    .target(name: "Processors", dependencies: ["FaceAnalysis", "Imaging"]),
    // The system SQLite (libsqlite3-dev) for the embedded job store.
    .target(name: "CSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),
    // libpq (Debian's libpq-dev) for the cluster store: a small C library instead of postgres-nio,
    // which would add swift-nio and many minutes to every clean build.
    .systemLibrary(name: "CPostgres", path: "Sources/CPostgres"),
    .target(name: "Jobs", dependencies: ["CSQLite", "CPostgres"]),
    // ffprobe/ffmpeg as subprocesses with raw frame pipes.
    // Linux thread placement calls (affinity, per-thread nice) that need _GNU_SOURCE.
    .target(name: "CLinuxThreads"),
    .target(name: "Media", dependencies: ["Imaging", "CLinuxThreads"]),
    // Chunked video runs: decode -> analyse -> render -> encode per chunk, the embedded job engine.
    .target(name: "Pipeline", dependencies: ["Imaging", "Media", "Jobs", "Digests", "ObjectStorage"]),
    // The swap engine's typed run configuration (and, as it moves out of the executable, the engine).
    .target(name: "Swapping", dependencies: [
      "FaceAnalysis", "Processors", "Media", "Models", "OnnxRuntime", "Imaging", "Pipeline", "Digests", "ObjectStorage",
      .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ]),
    // Measurements behind `swapline benchmark` (the command only decodes options and prints).
    .target(name: "Benchmarks", dependencies: ["FaceAnalysis", "Imaging", "OnnxRuntime", "Jobs", "Pipeline", "Media", "Swapping"]),
    // Observability: Prometheus text metrics and their HTTP endpoint (Hummingbird).
    .target(name: "Server", dependencies: [
      .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"), .product(name: "Hummingbird", package: "hummingbird"),
      .product(name: "Logging", package: "swift-log"),
    ]),
    // S3-compatible object storage: AWS Signature V4 and the client.
    .target(name: "CCurl", linkerSettings: [.linkedLibrary("dl")]),
    .target(name: "ObjectStorage", dependencies: ["Digests", "CCurl"]),
    // The browser page served at `/`: static files compiled into the binary.
    .target(name: "WebUI", resources: [
      .embedInCode("Assets/index.html"), .embedInCode("Assets/app.js"), .embedInCode("Assets/app.css"),
    ]),
    // The HTTP API service: tenants, assets, jobs, live progress, webhooks, retention (`swapline serve`).
    .target(name: "HTTPAPI", dependencies: [
      "Swapping", "Jobs", "Media", "Imaging", "Models", "Digests", "Pipeline", "Server", "WebUI",
      .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HTTPTypes", package: "swift-http-types"),
      .product(name: "Logging", package: "swift-log"),
      .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
    ]),
    .executableTarget(
      name: "swapline",
      dependencies: [
        "OnnxRuntime", "Imaging", "Models", "FaceAnalysis", "Processors", "Media", "Jobs", "Pipeline", "Server", "Swapping", "Benchmarks", "HTTPAPI",
        "ObjectStorage", "CLinuxThreads",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]
    ),
    .testTarget(name: "OnnxRuntimeTests", dependencies: ["OnnxRuntime"]),
    .testTarget(name: "ImagingTests", dependencies: ["Imaging"]),
    .testTarget(name: "ModelsTests", dependencies: ["Models"]),
    .testTarget(name: "FaceAnalysisTests", dependencies: ["FaceAnalysis", "OnnxRuntime", "Imaging", "Models"]),
    .testTarget(name: "ProcessorsTests", dependencies: ["Processors", "FaceAnalysis", "Imaging", "OnnxRuntime", "TestSupport"]),
    .testTarget(name: "MediaTests", dependencies: ["Media", "Imaging", "TestSupport"]),
    // Shared by test targets: a throwaway PostgreSQL server (scripts/pgtest.sh), the ffmpeg runner.
    .target(name: "TestSupport", dependencies: ["Jobs", "FaceAnalysis", "Imaging"], path: "Tests/TestSupport"),
    .testTarget(name: "JobsTests", dependencies: ["Jobs", "TestSupport"]),
    .testTarget(name: "ObjectStorageTests", dependencies: ["ObjectStorage", "Digests", "TestSupport"]),
    .testTarget(name: "PipelineTests", dependencies: ["Pipeline", "Media", "Jobs", "Imaging", "TestSupport"]),
    .testTarget(name: "ServerTests", dependencies: ["Server"]),
    .testTarget(name: "SwappingTests", dependencies: ["Swapping", "FaceAnalysis", "Processors", "OnnxRuntime", "Imaging", "Models", "Media",
                                                  "Pipeline", "Jobs", "TestSupport"]),
    .testTarget(name: "CLITests", dependencies: ["Imaging", "Jobs", "ObjectStorage", "TestSupport"]),
  ],
  swiftLanguageModes: [.v6]
)
