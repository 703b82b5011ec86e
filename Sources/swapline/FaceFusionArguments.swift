import Foundation

/// FaceFusion 3.8's `headless-run` and `batch-run` arguments, and what Swapline does with each.
///
/// FaceFusion's command lines are translated into `swapline swap`'s own (so they decode into the
/// same `SwapConfiguration` through the same rules), argument by argument: kept, renamed, accepted
/// only with the value that describes what Swapline does anyway, accepted with a note when they
/// change nothing here, or refused by name. Never ignored silently. This table is also the
/// source of docs/FACEFUSION.md (`swapline headless-run --facefusion-arguments markdown`).
struct FaceFusionArgument: Sendable {
  enum Arity: String, Sendable { case one, many }

  enum Handling: Sendable {
    /// The same option with the same values in `swapline swap`.
    case same
    /// The same meaning under Swapline's name.
    case renamed(String)
    /// Translated into Swapline's options by a rule (explained in `note`).
    case mapped(note: String, translate: @Sendable ([String]) throws(CLIError) -> [String])
    /// Accepted with this value only (FaceFusion's default, which is what Swapline does); other values are refused.
    case onlyDefault([String], note: String)
    /// Accepted; it changes nothing in Swapline, and a note says why.
    case noEffect(String)
    /// Not implemented in Swapline: refused (exit 2) with this reason.
    case refused(String)
    /// Read by the command itself (paths, patterns, workflow).
    case command(String)
  }

  let names: [String]
  let arity: Arity
  let group: String
  let handling: Handling
  /// Where Swapline's default differs from FaceFusion's when the argument is left out.
  var defaults: (faceFusion: String, swapline: String)? = nil
  /// A difference worth knowing for an argument that is otherwise the same.
  var note: String? = nil

  var name: String { names.last! }
}

extension FaceFusionArgument {
  static func same(_ name: String, arity: Arity = .one, _ group: String, defaults: (String, String)? = nil) -> FaceFusionArgument {
    FaceFusionArgument(names: [name], arity: arity, group: group, handling: .same, defaults: defaults)
  }

  static func refused(_ name: String, _ group: String, _ reason: String) -> FaceFusionArgument {
    FaceFusionArgument(names: [name], arity: .one, group: group, handling: .refused(reason))
  }

  static func processor(_ name: String, arity: Arity = .one, _ processor: String) -> FaceFusionArgument {
    FaceFusionArgument(names: [name], arity: arity, group: "processors", handling: .refused("the \(processor) processor is not implemented in Swapline"))
  }

  /// FaceFusion's spreading of 1 to 4 side values: t -> t t t t, t r -> t r t r, t r b -> t r b r.
  static func spread(_ values: [String], _ name: String) throws(CLIError) -> [String] {
    switch values.count {
    case 1: return [values[0], values[0], values[0], values[0]]
    case 2: return [values[0], values[1], values[0], values[1]]
    case 3: return [values[0], values[1], values[2], values[1]]
    case 4: return values
    default: throw .badInput("\(name) takes 1 to 4 values (top right bottom left), got \(values.count)")
    }
  }

  /// The option with its values when every value is one Swapline has; otherwise refused by name.
  static func only(_ values: [String], in allowed: [String], _ name: String, because reason: String) throws(CLIError) -> [String] {
    if let other = values.first(where: { !allowed.contains($0) }) { throw .badInput("\(name) \(other) is not supported: \(reason)") }
    return [name] + values
  }

  static let noTempFrames = "Swapline streams frames through ffmpeg pipes and keeps no temporary frames"

  /// Every argument of FaceFusion 3.8.1's `headless-run` and `batch-run` (see
  /// Tests/Data/facefusion_3.8.1_arguments.json, extracted from its source).
  static let all: [FaceFusionArgument] = [
    // paths
    FaceFusionArgument(names: ["--config-path"], arity: .one, group: "paths",
                       handling: .refused("Swapline does not read facefusion.ini; give the options on the command line")),
    FaceFusionArgument(names: ["--temp-path"], arity: .one, group: "paths", handling: .noEffect(noTempFrames)),
    FaceFusionArgument(names: ["--jobs-path"], arity: .one, group: "paths", handling: .renamed("--jobs-dir"),
                       defaults: (".jobs", ".swapline-jobs next to the output")),
    FaceFusionArgument(names: ["-s", "--source-paths"], arity: .many, group: "paths", handling: .renamed("--source")),
    FaceFusionArgument(names: ["-t", "--target-path"], arity: .one, group: "paths", handling: .renamed("--target")),
    FaceFusionArgument(names: ["-o", "--output-path"], arity: .one, group: "paths", handling: .renamed("--output")),
    FaceFusionArgument(names: ["-s", "--source-pattern"], arity: .one, group: "patterns",
                       handling: .command("batch-run: a glob of source images; each is swapped into each target")),
    FaceFusionArgument(names: ["-t", "--target-pattern"], arity: .one, group: "patterns", handling: .command("batch-run: a glob of targets")),
    FaceFusionArgument(names: ["-o", "--output-pattern"], arity: .one, group: "patterns",
                       handling: .command("batch-run: the output path, with {index}, {source_name}, {target_name}, {target_extension}")),
    // face detector
    .same("--face-detector-model", "face detector", defaults: ("yolo_face", "scrfd (in the offline pack)")),
    .same("--face-detector-size", "face detector"),
    FaceFusionArgument(names: ["--face-detector-margin"], arity: .many, group: "face detector", handling: .mapped(
      note: "`0` (1 to 4 values, as FaceFusion spreads them: the default) is accepted; other margins are refused: Swapline detects on the whole frame",
      translate: { values throws(CLIError) in
        guard try spread(values, "--face-detector-margin").allSatisfy({ Double($0) == 0 }) else {
          throw .badInput("--face-detector-margin \(values.joined(separator: " ")) is not supported: Swapline detects on the whole frame, with no margin (only 0 is accepted)")
        }
        return []
      })),
    .same("--face-detector-angles", arity: .many, "face detector"),
    .same("--face-detector-score", "face detector"),
    // face landmarker
    FaceFusionArgument(names: ["--face-landmarker-model"], arity: .one, group: "face landmarker", handling: .mapped(
      note: "2dfan4 and peppa_wutz as FaceFusion; many (both, the better kept) is refused", translate: { values throws(CLIError) in
        try only(values, in: ["2dfan4", "peppa_wutz"], "--face-landmarker-model", because: "Swapline runs one landmarker (2dfan4 or peppa_wutz), not both")
      }), defaults: ("2dfan4", "auto: 2dfan4 when its file is present")),
    .same("--face-landmarker-score", "face landmarker"),
    // face selector
    FaceFusionArgument(names: ["--face-selector-mode"], arity: .one, group: "face selector", handling: .same,
                       defaults: ("reference", "many (the offline pack has no recogniser)"),
                       note: "on videos Swapline's reference face is the one at --reference-face-position in each frame, not one face from --reference-frame-number"),
    .same("--face-selector-order", "face selector"),
    .refused("--face-selector-age-start", "face selector", "Swapline does not select faces by age"),
    .refused("--face-selector-age-end", "face selector", "Swapline does not select faces by age"),
    .refused("--face-selector-gender", "face selector", "Swapline does not select faces by gender"),
    .refused("--face-selector-race", "face selector", "Swapline does not select faces by race"),
    .same("--reference-face-position", "face selector"),
    .same("--reference-face-distance", "face selector"),
    FaceFusionArgument(names: ["--reference-frame-number"], arity: .one, group: "face selector",
                       handling: .command("images: 0 only (an image is one frame); videos: refused, as Swapline's reference face is the one at --reference-face-position in each frame")),
    // face tracker
    FaceFusionArgument(names: ["--face-tracker-score"], arity: .one, group: "face tracker", handling: .mapped(
      note: "0 (FaceFusion's default: no tracking) detects on every frame (`--face-detector-interval 1`); other values are refused: Swapline's tracker is set with `--face-detector-interval` and `--face-tracker-smoothing`",
      translate: { values throws(CLIError) in
        guard let score = Double(values[0]), score == 0 else {
          throw .badInput("--face-tracker-score \(values[0]): Swapline's tracker is set with --face-detector-interval and --face-tracker-smoothing (0 detects on every frame)")
        }
        return ["--face-detector-interval", "1"]
      }), defaults: ("0.0: detect on every frame", "detect on every 2nd frame, track between")),
    // face masker
    .same("--face-occluder-model", "face masker"),
    .same("--face-parser-model", "face masker"),
    .same("--face-mask-types", arity: .many, "face masker"),
    .same("--face-mask-areas", arity: .many, "face masker"),
    .same("--face-mask-regions", arity: .many, "face masker"),
    .same("--face-mask-blur", "face masker"),
    FaceFusionArgument(names: ["--face-mask-padding"], arity: .many, group: "face masker", handling: .mapped(
      note: "1 to 4 percentages, spread as FaceFusion does (t; t r; t r b; t r b l)",
      translate: { values throws(CLIError) in ["--face-mask-padding"] + (try spread(values, "--face-mask-padding")) })),
    // voice extractor
    .refused("--voice-extractor-model", "voice extractor", "the voice extractor (for lip_syncer) is not implemented in Swapline"),
    // frame extraction
    FaceFusionArgument(names: ["--trim-frame-start"], arity: .one, group: "frame extraction",
                       handling: .command("videos: as `swap`'s; images: ignored with a note, as FaceFusion ignores it")),
    FaceFusionArgument(names: ["--trim-frame-end"], arity: .one, group: "frame extraction",
                       handling: .command("videos: as `swap`'s; images: ignored with a note, as FaceFusion ignores it")),
    FaceFusionArgument(names: ["--temp-frame-format"], arity: .one, group: "frame extraction", handling: .noEffect(noTempFrames)),
    FaceFusionArgument(names: ["--temp-pixel-format"], arity: .one, group: "frame extraction", handling: .noEffect(noTempFrames)),
    // frame distribution
    FaceFusionArgument(names: ["--target-frame-amount"], arity: .one, group: "frame distribution",
                       handling: .onlyDefault(["2"], note: "Swapline's processors take one frame at a time, with faces tracked between detections")),
    // output creation
    FaceFusionArgument(names: ["--output-image-quality"], arity: .one, group: "output creation", handling: .same, defaults: ("80", "90"),
                       note: "JPEG quality goes to libjpeg as is and WebP 100 is lossless (FaceFusion maps it to ffmpeg's scale)"),
    FaceFusionArgument(names: ["--output-image-scale"], arity: .one, group: "output creation",
                       handling: .onlyDefault(["1.0"], note: "Swapline writes images at the target's size")),
    .refused("--output-audio-encoder", "output creation",
             "Swapline copies the target's audio when the container takes it, else encodes AAC (Opus for .webm)"),
    .refused("--output-audio-quality", "output creation",
             "Swapline copies the target's audio when the container takes it, else encodes AAC (Opus for .webm) at ffmpeg's default quality"),
    FaceFusionArgument(names: ["--output-audio-volume"], arity: .one, group: "output creation",
                       handling: .onlyDefault(["100"], note: "Swapline keeps the audio's volume")),
    FaceFusionArgument(names: ["--output-video-encoder"], arity: .one, group: "output creation", handling: .mapped(
      note: "libx264, libx265, libvpx-vp9, h264_nvenc, hevc_nvenc as FaceFusion (plus Swapline's ffv1); the AMF, QSV, VideoToolbox, libx264rgb and rawvideo encoders are refused",
      translate: { values throws(CLIError) in
        try only(values, in: ["libx264", "libx265", "libvpx-vp9", "h264_nvenc", "hevc_nvenc", "ffv1"], "--output-video-encoder",
                 because: "Swapline encodes with libx264, libx265, libvpx-vp9, h264_nvenc, hevc_nvenc or ffv1")
      })),
    FaceFusionArgument(names: ["--output-video-preset"], arity: .one, group: "output creation", handling: .same,
                       note: "for nvenc Swapline maps presets to p1-p7 and for vp9 to -deadline/-cpu-used (FaceFusion: fast/medium/slow, none)"),
    FaceFusionArgument(names: ["--output-video-quality"], arity: .one, group: "output creation", handling: .same, defaults: ("80", "65"),
                       note: "same crf mapping; Swapline's default is crf 18 (FaceFusion's 80, crf 10, gives several times a typical input's bitrate)"),
    FaceFusionArgument(names: ["--output-video-scale"], arity: .one, group: "output creation",
                       handling: .onlyDefault(["1.0"], note: "Swapline writes videos at the target's size")),
    .refused("--output-video-fps", "output creation", "Swapline keeps the target's frame rate"),
    // workflow
    FaceFusionArgument(names: ["--workflow-mode"], arity: .one, group: "workflow",
                       handling: .command("auto, or image-to-image / image-to-video, which must match the target (else exit 2)")),
    FaceFusionArgument(names: ["--workflow-strategy"], arity: .one, group: "workflow", handling: .noEffect(noTempFrames)),
    // processors
    .same("--processors", arity: .many, "processors", defaults: ("face_swapper", "face_swapper")),
    .processor("--age-modifier-model", "age_modifier"), .processor("--age-modifier-direction", "age_modifier"),
    .processor("--background-remover-model", "background_remover"),
    .processor("--background-remover-fill-color", arity: .many, "background_remover"),
    .processor("--background-remover-despill-color", arity: .many, "background_remover"),
    .processor("--deep-swapper-model", "deep_swapper"), .processor("--deep-swapper-morph", "deep_swapper"),
    .processor("--expression-restorer-model", "expression_restorer"), .processor("--expression-restorer-factor", "expression_restorer"),
    .processor("--expression-restorer-areas", arity: .many, "expression_restorer"),
    .processor("--face-debugger-items", arity: .many, "face_debugger"),
    .processor("--face-editor-model", "face_editor"), .processor("--face-editor-eyebrow-direction", "face_editor"),
    .processor("--face-editor-eye-gaze-horizontal", "face_editor"), .processor("--face-editor-eye-gaze-vertical", "face_editor"),
    .processor("--face-editor-eye-open-ratio", "face_editor"), .processor("--face-editor-lip-open-ratio", "face_editor"),
    .processor("--face-editor-mouth-grim", "face_editor"), .processor("--face-editor-mouth-pout", "face_editor"),
    .processor("--face-editor-mouth-purse", "face_editor"), .processor("--face-editor-mouth-smile", "face_editor"),
    .processor("--face-editor-mouth-position-horizontal", "face_editor"),
    .processor("--face-editor-mouth-position-vertical", "face_editor"),
    .processor("--face-editor-head-pitch", "face_editor"), .processor("--face-editor-head-yaw", "face_editor"),
    .processor("--face-editor-head-roll", "face_editor"),
    .same("--face-enhancer-model", "processors"),
    .same("--face-enhancer-blend", "processors"),
    FaceFusionArgument(names: ["--face-enhancer-weight"], arity: .one, group: "processors",
                       handling: .onlyDefault(["0.5"], note: "Swapline's face enhancer has no weight input; 0.5 is FaceFusion's default")),
    .same("--face-swapper-model", "processors", defaults: ("hyperswap_1a_256", "classic (offline, no model file)")),
    .same("--face-swapper-pixel-boost", "processors"),
    .same("--face-swapper-weight", "processors"),
    .processor("--frame-colorizer-model", "frame_colorizer"), .processor("--frame-colorizer-size", "frame_colorizer"),
    .processor("--frame-colorizer-blend", "frame_colorizer"),
    .same("--frame-enhancer-model", "processors"),
    .same("--frame-enhancer-blend", "processors"),
    .processor("--lip-syncer-model", "lip_syncer"), .processor("--lip-syncer-weight", "lip_syncer"),
    // execution
    FaceFusionArgument(names: ["--execution-device-ids"], arity: .many, group: "execution", handling: .mapped(
      note: "one device id; more are refused: a Swapline process uses one device (run one worker per GPU)",
      translate: { values throws(CLIError) in
        guard values.count == 1 else {
          throw .badInput("--execution-device-ids \(values.joined(separator: " ")) is not supported: a Swapline process uses one device; run one worker per GPU (`swapline worker --execution-device-ids N`)")
        }
        return ["--execution-device-ids"] + values
      })),
    FaceFusionArgument(names: ["--execution-providers"], arity: .many, group: "execution", handling: .mapped(
      note: "cpu, cuda and tensorrt as FaceFusion; rocm, migraphx, coreml, openvino, qnn and directml are refused",
      translate: { values throws(CLIError) in
        try only(values, in: ["cpu", "cuda", "tensorrt"], "--execution-providers", because: "Swapline's ONNX Runtime providers are cpu, cuda and tensorrt")
      }), defaults: ("the first available (cuda on a CUDA build)", "cpu")),
    FaceFusionArgument(names: ["--execution-thread-count"], arity: .one, group: "execution", handling: .same,
                       defaults: ("8", "the number of cores (video: one less)"),
                       note: "Swapline's is ONNX Runtime's intra-op thread count (FaceFusion's: frames processed in parallel); either changes speed, not the output"),
    // download
    FaceFusionArgument(names: ["--download-providers"], arity: .many, group: "download",
                       handling: .noEffect("Swapline never downloads models while swapping; `swapline models fetch` does, from FaceFusion's release URLs")),
    // memory
    .same("--video-memory-strategy", "memory", defaults: ("strict", "tolerant")),
    // misc
    .same("--log-level", "misc"),
  ]

  /// The processors FaceFusion has and Swapline does not.
  static let unimplementedProcessors = ["age_modifier", "background_remover", "deep_swapper", "expression_restorer", "face_debugger",
                                        "face_editor", "frame_colorizer", "lip_syncer"]
}

/// A FaceFusion command line translated into `swapline swap`'s arguments.
struct FaceFusionTranslation {
  enum Command: String { case headlessRun = "headless-run", batchRun = "batch-run" }

  /// Options for `swap` (without the paths for batch-run, which sets them per pair).
  var swapArguments: [String] = []
  /// `--trim-frame-*` for `swap`, applied to video targets only (FaceFusion ignores them for images).
  var trimArguments: [String] = []
  /// Lines to print before running: arguments accepted that change nothing.
  var notes: [String] = []
  var patterns: (source: String?, target: String?, output: String?) = (nil, nil, nil)
  var workflowMode = "auto"
  /// `--reference-frame-number`, which only an image target (one frame) can honour.
  var referenceFrame: String?

  /// Reads FaceFusion's arguments as argparse does (a unique prefix names an option, a repeated
  /// option keeps its last values); anything not in the table is passed on to `swap` (Swapline's
  /// own options such as --models-dir or --chunk-size), whose parser refuses what it does not know.
  init(_ arguments: [String], command: Command) throws(CLIError) {
    let table = FaceFusionArgument.all.filter { argument in
      switch argument.handling {
      case .renamed(let to) where ["--source", "--target", "--output"].contains(to): command == .headlessRun
      case .command where argument.group == "patterns": command == .batchRun
      default: true
      }
    }
    var given: [(argument: FaceFusionArgument, values: [String])] = []
    var index = 0
    while index < arguments.count {
      var word = arguments[index]
      var inline: String?
      if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
        inline = String(word[word.index(after: equals)...])
        word = String(word[..<equals])
      }
      var match = table.first { $0.names.contains(word) }
      if match == nil, word.hasPrefix("--"), word.count > 2 {
        let candidates = table.filter { $0.name.hasPrefix(word) }
        if candidates.count > 1 {
          throw .badInput("ambiguous option \(word) could match \(candidates.map(\.name).joined(separator: ", "))")
        }
        match = candidates.first
      }
      guard let argument = match else {
        if command == .batchRun, ["--source-paths", "--target-path", "--output-path"].contains(word) {
          throw .badInput("\(word) belongs to headless-run; batch-run takes --source-pattern, --target-pattern and --output-pattern")
        }
        swapArguments.append(arguments[index])
        index += 1
        continue
      }
      // The argument's values: up to the next option (argparse's nargs '+'), or exactly one.
      var values: [String] = []
      index += 1
      if let inline {
        values = [inline]
      } else {
        while index < arguments.count, !Self.looksLikeOption(arguments[index]) {
          values.append(arguments[index])
          index += 1
          if argument.arity == .one { break }
        }
      }
      guard !values.isEmpty else { throw .badInput("\(argument.name) needs a value") }
      given.removeAll { $0.argument.name == argument.name }   // argparse: the last occurrence wins
      given.append((argument, values))
    }
    for (argument, values) in given { try take(argument, values) }
  }

  /// argparse's rule: a word starting with '-' is an option unless it is a negative number.
  static func looksLikeOption(_ word: String) -> Bool {
    guard word.hasPrefix("-"), word.count > 1 else { return false }
    return !(word.dropFirst().first?.isNumber ?? false) || Double(word) == nil
  }

  private mutating func take(_ argument: FaceFusionArgument, _ values: [String]) throws(CLIError) {
    let name = argument.name
    switch argument.handling {
    case .same:
      if name == "--processors", let other = values.first(where: { FaceFusionArgument.unimplementedProcessors.contains($0) }) {
        throw .badInput("--processors \(other): the \(other) processor is not implemented in Swapline (it has face_swapper, face_enhancer and frame_enhancer)")
      }
      swapArguments += [name] + values
    case .renamed(let swaplineName):
      swapArguments += [swaplineName] + values
    case .mapped(_, let translate):
      swapArguments += try translate(values)
    case .onlyDefault(let accepted, let note):
      let same = values.count == accepted.count && zip(values, accepted).allSatisfy { given, expected in
        given == expected || (Double(given) != nil && Double(given) == Double(expected))
      }
      guard same else { throw .badInput("\(name) \(values.joined(separator: " ")) is not supported: \(note) (only \(accepted.joined(separator: " ")) is accepted)") }
    case .noEffect(let reason):
      notes.append("\(name) has no effect: \(reason)")
    case .refused(let reason):
      throw .badInput("\(name) is not supported: \(reason)")
    case .command:
      switch name {
      case "--source-pattern": patterns.source = values[0]
      case "--target-pattern": patterns.target = values[0]
      case "--output-pattern": patterns.output = values[0]
      case "--trim-frame-start", "--trim-frame-end":
        // FaceFusion clamps a negative start or end to the first frame.
        let value = Int(values[0]).map { String(max($0, 0)) } ?? values[0]
        trimArguments += [name, value]
      case "--reference-frame-number": referenceFrame = values[0]
      case "--workflow-mode":
        guard ["auto", "image-to-image", "image-to-video"].contains(values[0]) else {
          throw .badInput("--workflow-mode takes auto, image-to-image or image-to-video (got '\(values[0])')")
        }
        workflowMode = values[0]
      default: throw .failure("\(name) has no handler")
      }
    }
  }

  /// The parts that depend on the target's kind: trimming (videos only) and the reference frame
  /// (images only: a video's reference face is chosen in each frame); notes for what is dropped.
  func finish(_ swap: [String], isVideo: Bool, notes: inout [String]) throws(CLIError) -> [String] {
    if let referenceFrame {
      if isVideo {
        throw .badInput("--reference-frame-number is not supported for videos: Swapline's reference face is the one at --reference-face-position in each frame")
      }
      guard Int(referenceFrame) == 0 else { throw .badInput("--reference-frame-number \(referenceFrame): an image has only frame 0") }
    }
    if isVideo { return swap + trimArguments }
    if !trimArguments.isEmpty { notes.append("--trim-frame-start/--trim-frame-end have no effect on an image target (FaceFusion ignores them too)") }
    return swap
  }
}

extension FaceFusionArgument {
  /// What the docs table says about the argument.
  var swaplineColumn: (status: String, detail: String) {
    switch handling {
    case .same: ("supported", "same name and values" + (note.map { "; " + $0 } ?? ""))
    case .renamed(let name): ("supported", "as `\(name)`")
    case .mapped(let note, _): ("mapped", note)
    case .onlyDefault(let values, let note): ("default only", "`\(values.joined(separator: " "))` accepted, other values refused: \(note)")
    case .noEffect(let reason): ("no effect", "accepted with a note: \(reason)")
    case .refused(let reason): ("refused", reason)
    case .command(let what): ("supported", what)
    }
  }

  /// docs/FACEFUSION.md's table, one row per argument name.
  static func markdownTable() -> String {
    var lines = ["| FaceFusion 3.8.1 | group | Swapline | how | default when left out (FaceFusion → Swapline) |", "|---|---|---|---|---|"]
    for argument in all {
      let (status, detail) = argument.swaplineColumn
      let defaults = argument.defaults.map { "\($0.faceFusion) → \($0.swapline)" } ?? ""
      lines.append("| `\(argument.names.joined(separator: "`, `"))` | \(argument.group) | \(status) | \(detail.replacingOccurrences(of: "|", with: "\\|")) | \(defaults) |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The same table as JSON (for tests and scripts).
  static func jsonTable() -> String {
    let rows = all.map { argument -> [String: Any] in
      let (status, detail) = argument.swaplineColumn
      return ["names": argument.names, "group": argument.group, "status": status, "detail": detail, "arity": argument.arity.rawValue]
    }
    let data = (try? JSONSerialization.data(withJSONObject: rows, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    return String(decoding: data, as: UTF8.self) + "\n"
  }
}
