import Foundation
import Imaging
import Testing

/// The `swapline` executable as a user runs it: real models, real photos, exit codes.
@Suite struct CLITests {
  static let root: String = {
    var directory = (#filePath as NSString).deletingLastPathComponent
    while !FileManager.default.fileExists(atPath: directory + "/Package.swift") {
      directory = (directory as NSString).deletingLastPathComponent
    }
    return directory
  }()

  struct Result {
    let status: Int32
    let stdout: String
    let stderr: String
  }

  /// The swapline under test: $SWAPLINE_BIN (`make test` builds a release binary and names it,
  /// so end-to-end runs are fast), else the debug build of `swift build`.
  static let binary: String = ProcessInfo.processInfo.environment["SWAPLINE_BIN"] ?? root + "/.build/debug/swapline"

  /// Runs a program in the project root (or `directory`) and collects its output.
  static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                  in directory: String? = nil, unsetting: [String] = []) throws -> Result {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory ?? root)
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }.filter { !unsetting.contains($0.key) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain stderr on another thread while reading stdout, so a chatty child never blocks on a
    // full pipe, and read both before waiting for the exit.
    final class Collected: @unchecked Sendable { var data = Data() }
    let errors = Collected()
    let drained = DispatchSemaphore(value: 0)
    let errHandle = err.fileHandleForReading
    DispatchQueue.global().async {
      errors.data = errHandle.readDataToEndOfFile()
      drained.signal()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    drained.wait()
    let errData = errors.data
    process.waitUntilExit()
    return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData, as: UTF8.self))
  }

  /// Runs swapline (see `binary`) in the project root or `directory`.
  static func swapline(_ arguments: [String], environment: [String: String] = [:], in directory: String? = nil,
                       unsetting: [String] = []) throws -> Result {
    try run(binary, arguments, environment: environment, in: directory, unsetting: unsetting)
  }

  /// A fresh models folder holding symbolic links: (path under the project root, file name).
  static func modelsFolder(_ links: [(String, String)]) throws -> String {
    let folder = temporaryDirectory()
    for (from, to) in links {
      try FileManager.default.createSymbolicLink(atPath: folder + "/" + to, withDestinationPath: root + "/" + from)
    }
    return folder
  }

  static func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "swapline-cli-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  struct Report: Decodable {
    struct Face: Decodable {
      let score: Float
      let box: [Float]
      let landmarks: [String: [Float]]
    }
    let width: Int
    let height: Int
    let models: [String]
    let faces: [Face]
  }

  /// Mean absolute difference of two packed RGB pictures `width` pixels wide, inside a rectangle.
  static func meanChange(_ a: [UInt8], _ b: [UInt8], width: Int, x: Range<Int>, y: Range<Int>) -> Double {
    var total = 0
    for row in y {
      for column in x {
        let i = (row * width + column) * 3
        total += abs(Int(a[i]) - Int(b[i])) + abs(Int(a[i + 1]) - Int(b[i + 1])) + abs(Int(a[i + 2]) - Int(b[i + 2]))
      }
    }
    return Double(total) / Double(max(x.count * y.count * 3, 1))
  }

  /// A models folder with the stand-in `swapper` (a file under vendor/test-models) linked as
  /// `hyperswap_1a_256.onnx`, the synthetic ArcFace, the real detector and dlib model, and `extra`.
  static func standInModels(swapper: String = "hyperswap_1a_256_negative.onnx", _ extra: [(String, String)] = []) throws -> String {
    try modelsFolder([("vendor/test-models/" + swapper, "hyperswap_1a_256.onnx"),
                      ("vendor/test-models/arcface_w600k_r50_synthetic.onnx", "arcface_w600k_r50.onnx"),
                      ("models/scrfd_2.5g_kps.onnx", "scrfd_2.5g_kps.onnx"),
                      ("models/shape_predictor_68_face_landmarks.dat", "shape_predictor_68_face_landmarks.dat")] + extra)
  }

  /// A swapline process in the background, stdout and stderr to a log file.
  final class Background: @unchecked Sendable {
    let process = Process()
    let log: String
    /// `launcher`: a command that runs swapline (e.g. `ip netns exec NS`); `directory`: its
    /// working folder (the project root by default).
    init(_ arguments: [String], log: String, environment: [String: String] = [:], launcher: [String] = [],
         directory: String = CLITests.root) throws {
      self.log = log
      FileManager.default.createFile(atPath: log, contents: nil)
      process.executableURL = URL(fileURLWithPath: launcher.first ?? CLITests.binary)
      process.arguments = launcher.isEmpty ? arguments : Array(launcher.dropFirst()) + [CLITests.binary] + arguments
      process.currentDirectoryURL = URL(fileURLWithPath: directory)
      process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
      let handle = FileHandle(forWritingAtPath: log)!
      process.standardOutput = handle
      process.standardError = handle
      process.standardInput = FileHandle.nullDevice
      try process.run()
    }
    var text: String { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
    /// SIGTERM, then SIGKILL if it has not exited within 10 s.
    func stop() {
      if process.isRunning { process.terminate() }
      for _ in 0..<100 where process.isRunning { Thread.sleep(forTimeInterval: 0.1) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
    }
    /// Waits for the exit (SIGKILL after `seconds`); returns the status and everything it wrote.
    func finish(within seconds: Double = 60) -> (status: Int32, output: String) {
      let deadline = Date().addingTimeInterval(seconds)
      while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
      if process.isRunning { kill(process.processIdentifier, SIGKILL) }
      process.waitUntilExit()
      return (process.terminationStatus, text)
    }
  }

  @Test func detectPrintsOneFaceForGraceHopperAsJSON() throws {
    let result = try Self.swapline(["detect", "samples/grace_hopper.jpg", "--json"])
    #expect(result.status == 0)
    let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
    #expect(report.width == 512 && report.height == 600)
    #expect(report.faces.count == 1)
    let points = try #require(report.faces.first?.landmarks)
    #expect(points["left_eye"]![0] < points["right_eye"]![0])
    #expect(points["left_eye"]![1] < points["nose"]![1] && points["nose"]![1] < points["left_mouth"]![1])
  }

  /// The offline SCRFD takes any input size (setup frees it), so a smaller detector size works
  /// and finds the same face, a little less precisely.
  @Test func theOfflineDetectorRunsAtASmallerSize() throws {
    func face(_ size: String) throws -> [Float] {
      let result = try Self.swapline(["detect", "samples/grace_hopper.jpg", "--json", "--face-detector-size", size])
      #expect(result.status == 0, "\(result.stderr)")
      let report = try JSONDecoder().decode(Report.self, from: Data(result.stdout.utf8))
      #expect(report.faces.count == 1)
      return try #require(report.faces.first?.landmarks["nose"])
    }
    let full = try face("640"), small = try face("320")
    #expect(abs(full[0] - small[0]) < 8 && abs(full[1] - small[1]) < 8, "nose at \(full) and \(small)")
  }

  @Test func detectWritesAnAnnotatedImage() throws {
    let folder = Self.temporaryDirectory()
    let plain = folder + "/faces.png", shaped = folder + "/faces68.png"
    let result = try Self.swapline(["detect", "samples/astronaut.png", "--output", plain])
    #expect(result.status == 0)
    #expect(result.stdout.contains("1 face"))
    let json = try Self.swapline(["detect", "samples/astronaut.png", "--json"])
    let box = try #require(try JSONDecoder().decode(Report.self, from: Data(json.stdout.utf8)).faces.first?.box).map { Int($0) }
    #expect(try Self.swapline(["detect", "samples/astronaut.png", "--landmarks-68", "--output", shaped]).status == 0)
    let original = try ImageIO.read(path: Self.root + "/samples/astronaut.png").converted(toChannels: 3)
    let annotated = try ImageIO.read(path: plain).converted(toChannels: 3), withShape = try ImageIO.read(path: shaped).converted(toChannels: 3)
    #expect(annotated.width == original.width && annotated.height == original.height)
    /// Pixels of `image` in the region that differ from the original.
    func changed(_ image: Image, x: Range<Int>, y: Range<Int>) -> Int {
      var count = 0
      for row in y { for column in x {
        let i = (row * original.width + column) * 3
        if (0..<3).contains(where: { image.pixels[i + $0] != original.pixels[i + $0] }) { count += 1 }
      } }
      return count
    }
    let (x1, y1, x2, y2) = (box[0], box[1], box[2], box[3])
    // The box is drawn: most of a band along its top edge changed.
    #expect(changed(annotated, x: x1..<x2, y: max(0, y1 - 2)..<(y1 + 3)) > (x2 - x1) / 2)
    // Far from the face nothing changed (bottom-left corner).
    #expect(changed(annotated, x: 0..<40, y: (original.height - 40)..<original.height) == 0)
    // The 68 points mark the inside of the face, which the plain annotation leaves mostly alone.
    let inside = (x: (x1 + (x2 - x1) / 5)..<(x2 - (x2 - x1) / 5), y: (y1 + (y2 - y1) / 5)..<(y2 - (y2 - y1) / 5))
    #expect(changed(withShape, x: inside.x, y: inside.y) > changed(annotated, x: inside.x, y: inside.y) + 50)
  }

  @Test func badInputsExitWithTwoAndOneClearLine() throws {
    let folder = Self.temporaryDirectory()
    FileManager.default.createFile(atPath: folder + "/empty.jpg", contents: Data())
    FileManager.default.createFile(atPath: folder + "/notes.png", contents: Data("not an image\n".utf8))
    // A detector export with a fixed input size (the offline SCRFD takes any size since setup
    // frees it; the SCRFD signature stand-in is fixed at 640x640).
    let fixedSize = try Self.modelsFolder([("vendor/test-models/scrfd_2.5g_signature.onnx", "scrfd_2.5g.onnx")])
    let cases: [([String], String)] = [
      (["detect", folder + "/missing.jpg"], "no such file"),
      (["detect", folder + "/empty.jpg"], "empty"),
      (["detect", folder + "/notes.png"], "not a PNG, JPEG or WebP"),
      (["detect", "samples/grace_hopper.jpg", "--output", folder + "/out.gif"], "unsupported extension"),
      (["detect", "samples/grace_hopper.jpg", "--face-detector-size", "333"], "not offered"),
      (["detect", "samples/grace_hopper.jpg", "--face-detector-angles", "45"], "0, 90, 180 and 270"),
      (["detect", "samples/grace_hopper.jpg", "--face-detector-size", "320", "--models-dir", fixedSize],
       "only accepts --face-detector-size 640x640"),
      (["detect", "samples/grace_hopper.jpg", "--models-dir", folder], "no model file for face detector 'scrfd'"),
      (["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", folder + "/no/such/dir/out.png"], "does not exist or is not writable"),
      (["models", "fetch", "no_such_model"], "unknown model"),
    ]
    for (arguments, message) in cases {
      let result = try Self.swapline(arguments)
      #expect(result.status == 2, "\(arguments): exit \(result.status), \(result.stderr)")
      #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
      #expect(!result.stderr.contains("Fatal error"))
    }
    #expect(!FileManager.default.fileExists(atPath: folder + "/out.gif"))
  }

  @Test func modelsListShowsLicencesAndPresence() throws {
    let result = try Self.swapline(["models", "list"])
    #expect(result.status == 0)
    let lines = result.stdout.split(separator: "\n")
    let scrfd = try #require(lines.first { $0.hasPrefix("scrfd_2.5g_kps ") })
    #expect(scrfd.contains("present") && scrfd.contains("InsightFace-NonCommercial"))
    let inswapper = try #require(lines.first { $0.hasPrefix("inswapper_128 ") })
    #expect(inswapper.contains("missing") && inswapper.contains("Non-Commercial"))
    #expect(lines.contains { $0.hasPrefix("real_esrgan_x4 ") && $0.contains("BSD-3-Clause") })
  }

  @Test func modelsVerifyDetectsACorruptedFile() throws {
    let folder = Self.temporaryDirectory()
    let good = try Self.swapline(["models", "verify", "scrfd_2.5g_kps"])
    #expect(good.status == 0 && good.stdout.contains("scrfd_2.5g_kps: ok (sha256)"))
    var bytes = try Data(contentsOf: URL(fileURLWithPath: Self.root + "/models/scrfd_2.5g_kps.onnx"))
    bytes[bytes.count / 2] ^= 0xFF
    try bytes.write(to: URL(fileURLWithPath: folder + "/scrfd_2.5g_kps.onnx"))
    let bad = try Self.swapline(["models", "verify", "--models-dir", folder])
    #expect(bad.status == 1)
    #expect(bad.stdout.contains("scrfd_2.5g_kps: MISMATCH"))
  }

  @Test func modelsFetchDownloadsFromALocalServerAndFailsCleanlyOffline() throws {
    let served = Self.temporaryDirectory(), destination = Self.temporaryDirectory()
    try FileManager.default.copyItem(atPath: Self.root + "/models/scrfd_2.5g_kps.onnx", toPath: served + "/scrfd_2.5g_kps.onnx")
    let server = Process()
    server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    server.arguments = ["python3", Self.root + "/scripts/range_http_server.py", served, served + "/requests.log"]
    let pipe = Pipe()
    server.standardOutput = pipe
    try server.run()
    defer {
      kill(server.processIdentifier, SIGKILL)
      var status: Int32 = 0
      waitpid(server.processIdentifier, &status, 0)
    }
    let port = String(decoding: pipe.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    let fetched = try Self.swapline(["models", "fetch", "scrfd_2.5g_kps", "--from", "http://127.0.0.1:\(port)/", "--models-dir", destination])
    #expect(fetched.status == 0, "\(fetched.stderr)")
    #expect(FileManager.default.contentsEqual(atPath: destination + "/scrfd_2.5g_kps.onnx", andPath: served + "/scrfd_2.5g_kps.onnx"))

    let offline = try Self.swapline(["models", "fetch", "inswapper_128", "--from", "http://nonexistent.invalid/models/",
                                     "--models-dir", destination])
    #expect(offline.status == 1)
    #expect(offline.stderr.contains("cannot reach nonexistent.invalid"))
    #expect(!FileManager.default.fileExists(atPath: destination + "/inswapper_128.onnx"))
  }

  @Test func doctorReportsCpuWorkingAndGpuProvidersWithTheirReason() throws {
    let result = try Self.swapline(["doctor"])
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("onnxruntime: 1.31.1"))
    #expect(result.stdout.contains("cpu: attached"))
    #expect(result.stdout.contains("cuda: not attachable: CUDAExecutionProvider is not compiled"))
    #expect(result.stdout.contains("tensorrt: not attachable: TensorrtExecutionProvider is not compiled"))
    #expect(result.stdout.contains("ffmpeg: ffmpeg version"))
  }

  @Test func gpuRequestsFallBackToCpuWithAWarningUnlessStrict() throws {
    let fallback = try Self.swapline(["detect", "samples/grace_hopper.jpg", "--execution-providers", "cuda", "cpu"])
    #expect(fallback.status == 0)
    #expect(fallback.stderr.contains("warning: cuda unavailable"))
    #expect(fallback.stdout.contains("1 face"))
    let strict = try Self.swapline(["detect", "samples/grace_hopper.jpg", "--execution-providers", "cuda", "--execution-strict"])
    #expect(strict.status == 1)
    #expect(strict.stderr.contains("CUDAExecutionProvider"))
  }

  @Test func missingRuntimeLibraryIsAClearFailure() throws {
    let result = try Self.swapline(["detect", "samples/grace_hopper.jpg"], environment: ["SWAPLINE_ORT_LIBRARY": "/nonexistent/libonnxruntime.so"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("ONNX Runtime library not found or not loadable"))
  }
}

/// `swapline swap` with the offline classic swapper.
@Suite struct SwapCommandTests {
  @Test func swapsGraceHopperIntoTheAstronautWithAProvenanceLabel() throws {
    let output = CLITests.temporaryDirectory() + "/swapped.png"
    let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", output, "--profile"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("swapped 1 face"))
    #expect(result.stdout.contains("landmark") && result.stdout.contains("encode"))
    #expect(result.stdout.contains("model scrfd_2.5g_kps.onnx: 2 runs"))
    let text = try ImageIO.readTextMetadata(path: output)
    #expect(text["swapline.provenance"]?.contains("face-swapped by swapline") == true)
    let swapped = try ImageIO.read(path: output), original = try ImageIO.read(path: CLITests.root + "/samples/astronaut.png")
    #expect(swapped.width == original.width && swapped.height == original.height)
    // Swapped around the eyes and mouth, untouched far from the face (the quality of the swap is
    // held to account in-process by ClassicSwapperTests).
    let after = swapped.converted(toChannels: 3).pixels, before = original.converted(toChannels: 3).pixels
    func change(_ xs: Range<Int>, _ ys: Range<Int>) -> Double { CLITests.meanChange(after, before, width: 512, x: xs, y: ys) }
    #expect(change(200..<260, 90..<115) > 10 && change(215..<245, 140..<160) > 5, "eyes \(change(200..<260, 90..<115)), mouth \(change(215..<245, 140..<160))")
    #expect(change(0..<120, 380..<512) == 0 && change(400..<512, 0..<60) == 0)
  }

  @Test func aSourceWithoutAFaceIsBadInputAndWritesNothing() throws {
    let folder = CLITests.temporaryDirectory()
    try ImageIO.write(Image(width: 200, height: 200, channels: 3, fill: 120), to: folder + "/blank.png")
    let result = try CLITests.swapline(["swap", "-s", folder + "/blank.png", "-t", "samples/astronaut.png", "-o", folder + "/out.png"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("no face found in the source"))
    #expect(!FileManager.default.fileExists(atPath: folder + "/out.png"))
  }

  @Test func aTargetWithoutAFaceIsWrittenUnchangedWithAWarning() throws {
    let folder = CLITests.temporaryDirectory()
    let blank = Image(width: 64, height: 48, channels: 3, fill: 77)
    try ImageIO.write(blank, to: folder + "/blank.png")
    let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", folder + "/blank.png", "-o", folder + "/out.png"])
    #expect(result.status == 0)
    #expect(result.stderr.contains("no face in target"))
    #expect(try ImageIO.read(path: folder + "/out.png") == blank)
  }

  @Test func badArgumentsExitWithTwo() throws {
    let folder = CLITests.temporaryDirectory()
    for arguments in [["swap", "-t", "samples/astronaut.png", "-o", folder + "/a.png"],
                      ["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", folder + "/a.bmp"],
                      ["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", folder + "/a.png", "--face-swapper-model", "no_such_swapper"],
                      ["swap", "-s", folder + "/missing.jpg", "-t", "samples/astronaut.png", "-o", folder + "/a.png"]] {
      let result = try CLITests.swapline(arguments)
      #expect(result.status == 2, "\(arguments): \(result.stderr)")
    }
    #expect((try FileManager.default.contentsOfDirectory(atPath: folder)).isEmpty)
  }
}

/// A zoo swapper through the whole CLI, with synthetic stand-ins for the model files:
/// hyperswap_1a_256 as an identity model and a synthetic arcface. The swap must then give back
/// the target (up to two bilinear resamplings) and leave everything outside the face untouched.
@Suite struct NeuralSwapCommandTests {
  @Test func identityZooSwapperGivesBackTheTarget() throws {
    let models = try CLITests.standInModels(swapper: "hyperswap_1a_256_identity.onnx")
    let output = models + "/out.png"
    let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", output,
                                        "--face-swapper-model", "hyperswap_1a_256", "--face-swapper-pixel-boost", "512x512",
                                        "--models-dir", models])
    #expect(result.status == 0, "\(result.stderr)")
    let swapped = try ImageIO.read(path: output), original = try ImageIO.read(path: CLITests.root + "/samples/astronaut.png")
    let difference = zip(swapped.pixels, original.pixels).map { abs(Int($0) - Int($1)) }
    #expect(Double(difference.reduce(0, +)) / Double(difference.count) < 1)
    #expect(difference.contains { $0 > 0 })  // the face was really pasted back
    // Where the box mask is zero (most of the frame) the bytes are exactly the target's.
    let unchanged = difference.filter { $0 == 0 }.count
    #expect(unchanged > difference.count / 2, "only \(unchanged) of \(difference.count) bytes unchanged")

    let missing = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", "samples/astronaut.png", "-o", output,
                                         "--face-swapper-model", "inswapper_128", "--models-dir", models])
    #expect(missing.status == 2 && missing.stderr.contains("swapline models fetch inswapper_128"))
  }
}

extension NeuralSwapCommandTests {
  @Test func occlusionMaskOptionKeepsABlueScarfVisible() throws {
    let models = try CLITests.standInModels([("vendor/test-models/xseg_1_bluescarf.onnx", "xseg_1.onnx")])
    var target = try ImageIO.read(path: CLITests.root + "/samples/astronaut.png").converted(toChannels: 3)
    let scarf = (x: 195, y: 150, width: 60, height: 26)  // over the astronaut's chin
    for y in scarf.y..<(scarf.y + scarf.height) {
      for x in scarf.x..<(scarf.x + scarf.width) {
        target.pixels.replaceSubrange(((y * 512 + x) * 3)..<((y * 512 + x) * 3 + 3), with: [10, 20, 240])
      }
    }
    try ImageIO.write(target, to: models + "/scarf.png")
    func scarfChange(_ maskTypes: [String]) throws -> Double {
      let output = models + "/out-\(maskTypes.joined()).png"
      let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", models + "/scarf.png", "-o", output,
                                          "--face-swapper-model", "hyperswap_1a_256", "--models-dir", models, "--face-mask-types"] + maskTypes)
      #expect(result.status == 0, "\(result.stderr)")
      let swapped = try ImageIO.read(path: output).converted(toChannels: 3)
      return CLITests.meanChange(swapped.pixels, target.pixels, width: 512, x: (scarf.x + 8)..<(scarf.x + scarf.width - 8),
                                 y: (scarf.y + 8)..<(scarf.y + scarf.height - 8))
    }
    #expect(try scarfChange(["box"]) > 40)
    #expect(try scarfChange(["box", "occlusion"]) < 1)
  }
}

extension NeuralSwapCommandTests {
  @Test func enhancersRunInTheGivenOrder() throws {
    let models = try CLITests.modelsFolder([("vendor/test-models/gfpgan_1.4_negative.onnx", "gfpgan_1.4.onnx"),
                       ("vendor/test-models/real_esrgan_x2_nearest.onnx", "real_esrgan_x2.onnx"),
                       ("models/scrfd_2.5g_kps.onnx", "scrfd_2.5g_kps.onnx"),
                       ("models/shape_predictor_68_face_landmarks.dat", "shape_predictor_68_face_landmarks.dat")])
    let output = models + "/enhanced.png"
    let result = try CLITests.swapline(["swap", "-t", "samples/astronaut.png", "-o", output, "--models-dir", models,
                                        "--processors", "face_enhancer", "frame_enhancer", "--face-enhancer-blend", "100",
                                        "--frame-enhancer-model", "real_esrgan_x2", "--frame-enhancer-blend", "100"])
    #expect(result.status == 0, "\(result.stderr)")
    let enhanced = try ImageIO.read(path: output)
    #expect(enhanced.width == 1024 && enhanced.height == 1024)
    #expect(try ImageIO.readTextMetadata(path: output)["swapline.provenance"]?.contains("gfpgan_1.4, real_esrgan_x2") == true)
    let missing = try CLITests.swapline(["swap", "-t", "samples/astronaut.png", "-o", models + "/x.png", "--models-dir", models,
                                         "--processors", "frame_enhancer"])
    #expect(missing.status == 2 && missing.stderr.contains("span_kendata_x4.onnx is not in"))
  }
}

/// `swapline swap` on a video: a 1 s clip made here from astronaut.png with a slow zoom and a tone.
@Suite struct VideoSwapCommandTests {
  /// Runs ffmpeg or ffprobe (the first argument) and returns stdout.
  static func ffmpeg(_ arguments: [String]) throws -> String {
    try CLITests.run("/usr/bin/env", arguments).stdout
  }

  @Test func swapsEveryFrameKeepsAudioAndLabelsTheOutput() throws {
    let folder = CLITests.temporaryDirectory()
    let clip = folder + "/clip.mp4", output = folder + "/swapped.mp4"
    _ = try Self.ffmpeg(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", CLITests.root + "/samples/astronaut.png",
                         "-f", "lavfi", "-i", "sine=frequency=330:duration=1", "-filter_complex",
                         "[0]zoompan=z='1+0.002*on':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)':d=1:s=256x256:fps=25,format=yuv420p[v]",
                         "-map", "[v]", "-map", "1:a", "-t", "1", "-c:v", "libx264", "-c:a", "aac", "-shortest", clip])
    let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", clip, "-o", output,
                                        "--face-detector-interval", "3", "--profile"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("25 frames"))
    // Detection on frames 0, 3, ..., 24 (9 runs) plus once on the source image; the tracker fills in.
    #expect(result.stdout.contains("model scrfd_2.5g_kps.onnx: 10 runs"), "\(result.stdout)")
    func count(_ path: String) throws -> String {
      try Self.ffmpeg(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames",
                       "-of", "csv=p=0", path]).trimmingCharacters(in: .whitespacesAndNewlines)
    }
    #expect(try count(output) == count(clip))
    let streams = try Self.ffmpeg(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type:format_tags=comment", "-of", "csv=p=0", output])
    #expect(streams.contains("audio"))
    #expect(streams.contains("face-swapped by swapline"))
    // Frame 12's face region (60x60 at 98,50 of the 256x256 frame) differs from the original's.
    func frame(_ path: String) throws -> [UInt8] {
      let whole = try VideoJobTests.frame(path, 12)
      return (50..<110).flatMap { row in whole[((row * 256 + 98) * 3)..<((row * 256 + 158) * 3)] }
    }
    let before = try frame(clip), after = try frame(output)
    #expect(before.count == 60 * 60 * 3 && after.count == before.count)
    // Re-encoding alone moves this region by 1-2 levels. The swap keeps the target's skin colour
    // and, here, her smile (grace_hopper's lips are closed), so what changes is the face's shape
    // and texture: 8 levels on average, measured in a fresh-clone run.
    let change = zip(before, after).map { abs(Int($0) - Int($1)) }.reduce(0, +) / max(before.count, 1)
    #expect(change >= 5, "mean change \(change)")
  }

  @Test func aCorruptVideoIsBadInputAndWritesNothing() throws {
    let folder = CLITests.temporaryDirectory()
    #expect(FileManager.default.createFile(atPath: folder + "/broken.mp4", contents: Data(repeating: 7, count: 5000)))
    let result = try CLITests.swapline(["swap", "-s", "samples/grace_hopper.jpg", "-t", folder + "/broken.mp4", "-o", folder + "/out.mp4"])
    #expect(result.status == 2, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: folder + "/out.mp4"))
  }
}
