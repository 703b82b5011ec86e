import ArgumentParser
import Foundation
import Swapping

/// `swapline headless-run`: FaceFusion 3.8's `headless-run` command line, run by `swapline swap`.
struct HeadlessRun: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "headless-run",
    abstract: "Run a FaceFusion 3.8 `headless-run` command line (same argument names and values).",
    discussion: """
      `python facefusion.py headless-run ARGS` becomes `swapline headless-run ARGS`. Each FaceFusion \
      argument is translated into `swapline swap`'s options: the same, renamed (-s/--source-paths, \
      -t/--target-path, -o/--output-path, --jobs-path), accepted only with the value that describes \
      what Swapline does, accepted with a note when it changes nothing here (temp frames, download \
      providers), or refused by name with the reason (exit 2): other processors, face selection by \
      age, gender or race, audio encoding, facefusion.ini. Left-out arguments take Swapline's \
      defaults, which differ from FaceFusion's for the swapper (classic), the detector (scrfd), the \
      selector mode (many), image quality (90) and memory strategy (tolerant). Swapline's own \
      `swap` options (--models-dir, --chunk-size, --workers, ...) may be added. \
      --print-configuration prints the configuration the command line means and runs nothing; \
      --facefusion-arguments markdown|json prints the whole table (docs/FACEFUSION.md).
      Exit codes as FaceFusion's: 0 done, 1 processing failed, 2 bad arguments or input.
      """)

  @Argument(parsing: .captureForPassthrough, help: "FaceFusion's arguments.")
  var arguments: [String] = []

  func run() async throws {
    var swap: Swap?
    try await reportingErrors {
      var words = arguments
      if Self.handledTable(&words) { return }
      let printConfiguration = words.contains("--print-configuration")
      words.removeAll { $0 == "--print-configuration" }
      let translation = try FaceFusionTranslation(words, command: .headlessRun)
      var notes = translation.notes
      let parsed = try parseTranslated(translation, translation.swapArguments, notes: &notes)
      for note in notes { printError("swapline: note: " + note) }
      if printConfiguration {
        print(String(decoding: try parsed.makeConfiguration().canonicalJSON, as: UTF8.self))
        return
      }
      swap = parsed
    }
    try await swap?.run()
  }

  /// `-h/--help` (captured with the arguments, so answered here) and
  /// `--facefusion-arguments markdown|json` (the translation table): printed, nothing runs.
  static func handledTable(_ words: inout [String], help: String = Swapline.helpMessage(for: HeadlessRun.self)) -> Bool {
    if words.contains("-h") || words.contains("--help") {
      print(help)
      return true
    }
    guard let index = words.firstIndex(of: "--facefusion-arguments") else { return false }
    let format = index + 1 < words.count ? words[index + 1] : "markdown"
    print(format == "json" ? FaceFusionArgument.jsonTable() : FaceFusionArgument.markdownTable(), terminator: "")
    return true
  }
}

/// `swapline batch-run`: FaceFusion 3.8's `batch-run`: every source pattern match into every target.
struct BatchRun: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "batch-run",
    abstract: "Run a FaceFusion 3.8 `batch-run` command line: each source into each target, outputs named by a pattern.",
    discussion: """
      -s/--source-pattern and -t/--target-pattern are globs (sorted, as FaceFusion's); every \
      (source, target) pair is swapped with the other arguments, as `swapline headless-run` reads \
      them, into -o/--output-pattern with {index}, {source_name}, {target_name} and \
      {target_extension} filled in (extension with its dot). Without a source pattern each target is \
      processed alone (for processors that need no source). Runs one after another; the first \
      failure stops the batch (exit 1).
      """)

  @Argument(parsing: .captureForPassthrough, help: "FaceFusion's arguments.")
  var arguments: [String] = []

  func run() async throws {
    var runs: [(output: String, swap: Swap)] = []
    try await reportingErrors {
      var words = arguments
      if HeadlessRun.handledTable(&words, help: Swapline.helpMessage(for: BatchRun.self)) { return }
      let translation = try FaceFusionTranslation(words, command: .batchRun)
      var notes = translation.notes
      guard let targetPattern = translation.patterns.target else { throw CLIError.badInput("batch-run needs -t/--target-pattern") }
      guard let outputPattern = translation.patterns.output else { throw CLIError.badInput("batch-run needs -o/--output-pattern") }
      let targets = try Self.files(matching: targetPattern, option: "--target-pattern")
      let sources: [String?] = try translation.patterns.source.map { try Self.files(matching: $0, option: "--source-pattern") } ?? [nil]
      var index = 0
      for source in sources {
        for target in targets {
          let output = try Self.output(outputPattern, index: index, source: source, target: target)
          var paths = ["--target", target, "--output", output]
          if let source { paths += ["--source", source] }
          runs.append((output, try parseTranslated(translation, translation.swapArguments + paths, notes: &notes)))
          index += 1
        }
      }
      var printed = Set<String>()   // each pair adds its notes; print each once
      for note in notes where printed.insert(note).inserted { printError("swapline: note: " + note) }
    }
    for (position, run) in runs.enumerated() {
      printError("swapline: batch \(position + 1)/\(runs.count): \(run.output)")
      try await run.swap.run()
    }
  }

  /// Files matching a glob, sorted; none is an error naming the pattern.
  static func files(matching pattern: String, option: String) throws(CLIError) -> [String] {
    var result = glob_t()
    defer { globfree(&result) }
    guard glob(pattern, 0, nil, &result) == 0 else { throw .badInput("\(option) '\(pattern)' matches no file") }
    let paths = (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    return paths.sorted()
  }

  /// FaceFusion's output pattern: Python format fields {index}, {source_name}, {target_name}, {target_extension}.
  static func output(_ pattern: String, index: Int, source: String?, target: String) throws(CLIError) -> String {
    let name = { (path: String) in ((path as NSString).lastPathComponent as NSString).deletingPathExtension }
    let ext = (target as NSString).pathExtension
    var fields = ["index": String(index), "target_name": name(target), "target_extension": ext.isEmpty ? "" : "." + ext.lowercased()]
    if let source { fields["source_name"] = name(source) }
    var output = ""
    var rest = Substring(pattern)
    while let open = rest.firstIndex(of: "{") {
      output += rest[..<open]
      guard let close = rest[open...].firstIndex(of: "}") else { throw .badInput("--output-pattern has an unclosed '{'") }
      let field = String(rest[rest.index(after: open)..<close])
      guard let value = fields[field] else {
        throw .badInput("--output-pattern field {\(field)} is not one of {index}, {target_name}, {target_extension}" + (source == nil ? "" : ", {source_name}"))
      }
      output += value
      rest = rest[rest.index(after: close)...]
    }
    return output + rest
  }
}

/// `swapline swap` parsed from translated arguments; its refusals keep its own message (exit 2).
private func parseSwap(_ arguments: [String]) throws -> Swap {
  do {
    return try Swap.parse(arguments)
  } catch {
    throw CLIError.badInput(Swap.message(for: error))
  }
}

/// `swap` parsed from a translation: once to learn the target's kind, then with what depends on
/// it (trimming, the reference frame), checked against an enforced --workflow-mode.
private func parseTranslated(_ translation: FaceFusionTranslation, _ arguments: [String], notes: inout [String]) throws -> Swap {
  let isVideo = try parseSwap(arguments).makeConfiguration().isVideo
  let actual = isVideo ? "image-to-video" : "image-to-image"
  if translation.workflowMode != "auto" && translation.workflowMode != actual {
    throw CLIError.badInput("--workflow-mode \(translation.workflowMode) does not match the target, which makes this \(actual)")
  }
  let swap = try parseSwap(try translation.finish(arguments, isVideo: isVideo, notes: &notes))
  let configuration = try swap.makeConfiguration()
  if isVideo && configuration.faceSelector.mode == .reference {
    notes.append("--face-selector-mode reference: on videos Swapline picks the face at --reference-face-position in each frame and faces like it")
  }
  return swap
}
