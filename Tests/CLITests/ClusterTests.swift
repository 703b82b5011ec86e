import Foundation
import Jobs
import TestSupport
import Testing

/// Cluster mode with a real PostgreSQL server: `jobs submit`, `worker` and `coordinator` as the
/// README runs them, and the failures the design must survive. Every test uses its own database and
/// storage folder, and compares frames with the single-machine lossless run of the same clip.
@Suite(.serialized) struct ClusterTests {
  let database: String
  let storage = CLITests.temporaryDirectory()
  let output: String
  /// The shared server, except for the restart test, which gets its own (restarting the shared
  /// one would disturb other suites). Starting a server costs an initdb, so only that test pays it.
  let server: TestPostgres

  init() throws {
    server = Test.current?.name.hasPrefix("aDatabaseRestart") == true ? try TestPostgres() : try TestPostgres.shared
    database = try TestPostgres.database(on: server)
    output = storage + "/out/cluster.mkv"
    try FileManager.default.createDirectory(atPath: storage + "/out", withIntermediateDirectories: true)
  }

  var cluster: [String] { ["--database", database, "--storage", storage + "/segments"] }

  typealias Background = CLITests.Background

  func submit() throws {
    let result = try CLITests.swapline(["jobs", "submit", "-s", "samples/grace_hopper.jpg", "-t", VideoJobTests.smallClip, "-o", output]
                                       + VideoJobTests.lossless + cluster)
    #expect(result.status == 0 && result.stdout.contains("job 1: submitted, 5 chunks"), "\(result.stdout) \(result.stderr)")
  }

  func worker(_ name: String, lease: Double = 30, environment: [String: String] = [:], extra: [String] = []) throws -> Background {
    try Background(["worker", "--poll-interval", "0.2", "--lease-seconds", String(lease)] + cluster + extra, log: storage + "/\(name).log",
                   environment: environment)
  }

  func coordinator(_ name: String = "coordinator", environment: [String: String] = [:], extra: [String] = []) throws -> Background {
    try Background(["coordinator", "--poll-interval", "0.2"] + cluster + extra, log: storage + "/\(name).log", environment: environment)
  }

  /// Scrapes the metrics endpoint a process logged ("metrics url=http://0.0.0.0:PORT/metrics").
  func scrape(_ process: Background) throws -> String {
    guard let range = process.text.range(of: #"0\.0\.0\.0:[0-9]+"#, options: .regularExpression) else { return "" }
    let port = process.text[range].split(separator: ":").last!
    return try CLITests.run("/bin/bash", ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(port); printf 'GET /metrics HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n' >&3; cat <&3"]).stdout
  }

  func store() throws -> PostgresChunkStore { try PostgresChunkStore(url: database) }

  /// Polls until `condition` holds (or fails the test after `seconds`).
  func wait(_ what: String, seconds: Double = 240, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
      if try condition() { return }
      Thread.sleep(forTimeInterval: 0.1)
    }
    Issue.record("timed out waiting for \(what)\n\(diagnosis())")
  }

  /// What a timed-out wait leaves to go on: the chunks' states and the end of every process's log.
  func diagnosis() -> String {
    let chunks = (try? store().chunks(job: 1).map { "chunk \($0.index): \($0.state) attempt \($0.attempt) \($0.lastError ?? "")" }) ?? ["store unreadable"]
    let logs = ((try? FileManager.default.contentsOfDirectory(atPath: storage)) ?? []).filter { $0.hasSuffix(".log") }.sorted().map { name in
      let lines = ((try? String(contentsOfFile: storage + "/" + name, encoding: .utf8)) ?? "").split(separator: "\n").suffix(30)
      return "--- \(name)\n" + lines.joined(separator: "\n")
    }
    return (chunks + logs).joined(separator: "\n")
  }

  func jobState() throws -> JobState? { try store().job(1)?.state }

  @Test func twoWorkersProduceTheSingleMachineFrames() throws {
    try submit()
    let workers = try [worker("w1", extra: ["--metrics-port", "0"]), worker("w2", extra: ["--metrics-port", "0"])], boss = try coordinator(extra: ["--metrics-port", "0"])
    defer { (workers + [boss]).forEach { $0.stop() } }
    try wait("the job to be done") { try jobState() == .done }
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
    let chunks = try store().chunks(job: 1)
    let owners = Set(chunks.compactMap(\.owner))
    #expect(owners.count == 2, "chunks rendered by \(owners)")
    // Rendered in the worker processes themselves, from the stored configuration (no child swap).
    let workerPIDs = Set(workers.map { String($0.process.processIdentifier) })
    #expect(Set(owners.compactMap { $0.split(separator: ":").last.map(String.init) }) == workerPIDs, "owners \(owners), workers \(workerPIDs)")
    #expect(boss.text.contains("job done job=1"), "\(boss.text)")
    // The joined job's segments are removed (CLUSTER.md): nothing left under the job's folder.
    #expect(!FileManager.default.fileExists(atPath: storage + "/segments/job-1"), "segments left: \((try? FileManager.default.contentsOfDirectory(atPath: storage + "/segments/job-1")) ?? [])")
    // Metrics: the coordinator's view of the store, and the first worker's own work.
    let coordinatorMetrics = try scrape(boss)
    #expect(coordinatorMetrics.contains("swapline_chunks{state=\"done\"} 5") && coordinatorMetrics.contains("swapline_jobs_finished_total{outcome=\"done\"} 1"),
            "\(coordinatorMetrics)")
    // Each worker's frames counter adds up the chunks it committed; together, every frame once.
    func frames(_ metrics: String) -> Double {
      let line = metrics.split(separator: "\n").first { $0.hasPrefix("swapline_worker_frames_total{") }
      return Double(line?.split(separator: " ").last ?? "") ?? -1
    }
    for worker in workers {
      let metrics = try scrape(worker)
      #expect(metrics.contains("swapline_worker_attempts_total{outcome=\"ok\""), "\(metrics)")
      #expect(metrics.contains("swapline_worker_chunk_seconds_count") && metrics.contains("swapline_worker_pool_resident_bytes"), "\(metrics)")
    }
    // A worker reads its renderer's last chunk event a moment after the commit.
    try wait("the workers' frame counters to add up to the clip's 50 frames", seconds: 10) {
      try workers.map { frames(try scrape($0)) }.reduce(0, +) == 50
    }
    #expect(try workers.allSatisfy { frames(try scrape($0)) > 0 })
    // Each worker's fps gauge is its last chunk's frames over its seconds: positive and finite.
    for worker in workers {
      let line = try scrape(worker).split(separator: "\n").first { $0.hasPrefix("swapline_worker_fps{") }
      let fps = Double(line?.split(separator: " ").last ?? "") ?? -1
      #expect(fps > 0 && fps < 10_000, "\(line ?? "no fps gauge")")
    }
  }

  @Test func aKilledWorkersChunkIsReclaimedAfterItsLease() throws {
    try submit()
    let first = try worker("w1", lease: 3)
    // Wait for its render process to hold a lease, then kill -9 both the worker and the renderer.
    var owner = ""
    try wait("a chunk in flight") {
      owner = try store().chunks(job: 1).first { $0.state == .leased }?.owner ?? ""
      return !owner.isEmpty
    }
    let renderer = Int32(owner.split(separator: ":").last ?? "") ?? 0
    kill(first.process.processIdentifier, SIGKILL)
    #expect(renderer > 0 && kill(renderer, SIGKILL) == 0)
    first.stop()
    let second = try worker("w2", lease: 3), boss = try coordinator()
    defer { [second, boss].forEach { $0.stop() } }
    try wait("the job to be done") { try jobState() == .done }
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
    let reclaimed = try store().chunks(job: 1).filter { $0.infrastructureFailures > 0 }
    // The killed renderer's chunk came back through the reaper (its lease expired), not a retry of its own.
    #expect(!reclaimed.isEmpty && reclaimed.allSatisfy { $0.lastError == "lease expired" && $0.attempt >= 2 }, "\(reclaimed)")
    #expect(boss.text.contains("expired leases returned"), "\(boss.text)")
  }

  /// Two coordinators: one leads, the other stands by; the leader is killed (-9) in the middle of
  /// its join and the standby takes over, joins, and the output has the reference frames.
  @Test func aStandbyCoordinatorTakesOverWhenTheLeaderDiesMidJoin() throws {
    try submit()
    let leader = try coordinator("leader", environment: ["SWAPLINE_INJECT_JOIN_PAUSE": "60"])
    try wait("the first coordinator to lead") { leader.text.contains("leading") }
    let standby = try coordinator("standby")
    defer { [leader, standby].forEach { $0.stop() } }
    try wait("the second coordinator to stand by") { standby.text.contains("standing by: another coordinator leads") }
    let workers = try [worker("w1"), worker("w2")]
    defer { workers.forEach { $0.stop() } }
    try wait("the leader to pause in its join") { leader.text.contains("pausing 60.0 s before publishing job 1") }
    // Every chunk is done and the leader holds a verified join: the standby must not have joined.
    #expect(try jobState() == .running && !FileManager.default.fileExists(atPath: output))
    #expect(!standby.text.contains("leading") && !standby.text.contains("job done"), "\(standby.text)")
    let connection = try store().connection
    let killedAt = Double(try connection.query("SELECT extract(epoch from now())").first?[0] ?? "") ?? 0
    kill(leader.process.processIdentifier, SIGKILL)
    try wait("the standby to finish the job", seconds: 60) { try jobState() == .done }
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
    #expect(standby.text.contains("leading") && standby.text.contains("job done"), "\(standby.text)")
    #expect(!leader.text.contains("job done"), "\(leader.text)")
    // The store's record of who led: two terms, the standby's begun only after the leader died.
    let terms = try CoordinatorLeadership.terms(on: connection)
    #expect(terms.count == 2 && terms.map(\.term) == terms.map(\.term).sorted(), "\(terms)")
    #expect(terms.first?.holder.hasSuffix(":\(leader.process.processIdentifier)") == true
            && terms.last?.holder.hasSuffix(":\(standby.process.processIdentifier)") == true, "\(terms)")
    #expect((terms.last?.startedAt ?? 0) >= killedAt, "standby's term began at \(terms.last?.startedAt ?? 0), leader killed at \(killedAt)")
  }

  /// A rolling upgrade: each worker in turn gets SIGTERM while it holds a lease and a new one
  /// starts; the job completes with the reference frames, every chunk committed exactly once
  /// (the workers' logs), none rendered to completion twice (no fenced-out commit), none lost.
  @Test func aRollingUpgradeOfTheWorkersLosesNothingAndRendersNothingTwice() throws {
    try submit()
    let boss = try coordinator()
    var workers = [try worker("w1"), try worker("w2")]
    defer { (workers + [boss]).forEach { $0.stop() } }
    for index in 0..<2 {
      let old = workers[index], pid = old.process.processIdentifier
      try wait("worker \(index + 1) to hold a lease") {
        try store().chunks(job: 1).contains { $0.state == .leased && $0.owner?.hasSuffix(":\(pid)") == true }
      }
      kill(pid, SIGTERM)
      workers.append(try worker("w\(index + 3)"))
      old.process.waitUntilExit()
      #expect(old.process.terminationStatus == 0 && old.text.contains("stopped"), "\(old.text)")
    }
    try wait("the job to be done") { try jobState() == .done }
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
    let logs = workers.map(\.text).joined(separator: "\n")
    let committed = logs.split(separator: "\n").compactMap { line -> Int? in
      guard let range = line.range(of: #"chunk [0-9]+ committed"#, options: .regularExpression) else { return nil }
      return Int(line[range].split(separator: " ")[1])
    }
    #expect(committed.sorted() == [0, 1, 2, 3, 4], "commits by chunk: \(committed.sorted())\n\(logs)")
    #expect(!logs.contains("fenced out"), "\(logs)")
    // The two abandoned leases went back at once (released, not left to expire). Both may have
    // been on the same chunk (the second worker can claim the chunk the first gave back), so the
    // releases are counted (each adds an infrastructure failure), not the chunks that show one.
    let chunks = try store().chunks(job: 1)
    #expect(chunks.allSatisfy { $0.state == .done } && chunks.map(\.infrastructureFailures).reduce(0, +) >= 2
              && chunks.contains { $0.lastError == "worker gone" },
            "\(chunks.map { "\($0.index): \($0.lastError ?? "-") x\($0.infrastructureFailures)" })")
  }

  /// A worker pinned to a tenant (`--tenant`) leaves other tenants' jobs alone and renders its own.
  @Test func aWorkerPinnedToATenantRendersOnlyThatTenantsJobs() throws {
    try submit()
    try store().connection.query("UPDATE jobs SET tenant = 'acme' WHERE id = 1")
    let other = try CLITests.swapline(["worker", "--once", "--poll-interval", "0.2", "--tenant", "globex", "--tenant", "-"] + cluster)
    #expect(other.status == 0, "\(other.stderr)")
    #expect(try store().chunks(job: 1).allSatisfy { $0.state == .pending && $0.attempt == 0 }, "\(other.stderr)")
    let empty = try CLITests.swapline(["worker", "--once", "--tenant", " "] + cluster)
    #expect(empty.status == 2 && empty.stderr.contains("--tenant"), "\(empty.stderr)")
    let acme = try CLITests.swapline(["worker", "--once", "--poll-interval", "0.2", "--tenant", "acme"] + cluster)
    #expect(acme.status == 0, "\(acme.stderr)")
    #expect(try store().chunks(job: 1).allSatisfy { $0.state == .done })
  }

  @Test func aStalledWorkersLateCommitIsRejected() throws {
    try submit()
    let stalled = try worker("stalled", lease: 2, extra: ["--metrics-port", "0"])
    var owner = "", index = -1, token = Int64(0)
    try wait("a chunk in flight") {
      guard let chunk = try store().chunks(job: 1).first(where: { $0.state == .leased }) else { return false }
      owner = chunk.owner ?? ""
      index = chunk.index
      return true
    }
    let renderer = Int32(owner.split(separator: ":").last ?? "") ?? 0
    #expect(renderer > 0 && kill(renderer, SIGSTOP) == 0)
    token = Int64(try store().connection.query("SELECT lease_token FROM chunks WHERE job_id = 1 AND idx = $1", [String(index)])
      .first?[0] ?? "") ?? 0
    kill(stalled.process.processIdentifier, SIGSTOP)
    // Past its lease the coordinator reaps the chunk and another worker finishes the whole job.
    let healthy = try worker("healthy", lease: 2), boss = try coordinator()
    defer { [healthy, boss].forEach { $0.stop() } }
    try wait("the job to be done") { try jobState() == .done }
    // The stalled renderer wakes up: its lease renewal and commit are refused; its segment is never used.
    kill(renderer, SIGCONT)
    kill(stalled.process.processIdentifier, SIGCONT)
    // It notices: either its commit is fenced off, or (still analysing) it sees the job ended
    // under it and abandons the chunk; both count as a refused attempt, never as "ok".
    var metrics = ""
    try wait("the stalled worker to report its refused attempt", seconds: 30) {
      metrics = try scrape(stalled)
      return metrics.contains("swapline_worker_attempts_total{outcome=\"fenced\"") || metrics.contains("swapline_worker_attempts_total{outcome=\"lease_lost\"")
    }
    // A fenced commit is also counted as a stale commit rejected (one per fenced attempt).
    func value(_ prefix: String) -> Double {
      Double(metrics.split(separator: "\n").first { $0.hasPrefix(prefix) }?.split(separator: " ").last ?? "") ?? 0
    }
    #expect(value("swapline_worker_stale_commits_rejected_total{") == value("swapline_worker_attempts_total{outcome=\"fenced\""), "\(metrics)")
    stalled.stop()
    let chunk = try store().chunks(job: 1)[index]
    #expect(chunk.state == .done && chunk.output != nil && !(chunk.output ?? "").contains(".t\(token)."), "\(chunk)")
    #expect(chunk.infrastructureFailures >= 1)
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
  }

  /// `jobs submit --config job.json`: the same swap as a configuration file is the same job (same
  /// fingerprint) as on the command line; another value is another job; a wrong file is refused
  /// naming its key and option, before anything reaches the store.
  @Test func aConfigurationFileIsTheSameJobAsTheCommandLine() throws {
    try submit()
    let file = storage + "/job.json"
    func submitFile(_ json: String, _ extra: [String] = []) throws -> CLITests.Result {
      try json.write(toFile: file, atomically: true, encoding: .utf8)
      return try CLITests.swapline(["jobs", "submit", "--config", file] + extra + cluster)
    }
    let paths = #"{"sources": ["samples/grace_hopper.jpg"], "target": "\#(try VideoJobTests.smallClip)", "output": "\#(output)"}"#
    let same = try submitFile(#"{"paths": \#(paths), "output": {"videoEncoder": "ffv1"}, "video": {"chunkSize": 10, "detectorInterval": 10}}"#)
    #expect(same.status == 0 && same.stdout.contains("job 1: already submitted, 5 chunks"), "\(same.stdout) \(same.stderr)")
    let other = try submitFile(#"{"paths": \#(paths), "output": {"videoEncoder": "ffv1"}, "video": {"chunkSize": 10, "detectorInterval": 5}}"#)
    #expect(other.status == 0 && other.stdout.contains("job 2: submitted, 5 chunks"), "\(other.stdout) \(other.stderr)")
    // Options away from their defaults, given both ways: one job again.
    let mp4 = storage + "/out/other.mp4"
    let options = ["--face-detector-score", "0.4", "--face-detector-angles", "0", "90", "--face-selector-mode", "one", "--face-selector-order",
                   "left-right", "--face-tracker-smoothing", "0.8", "--trim-frame-start", "10", "--trim-frame-end", "40", "--output-video-quality",
                   "70", "--output-video-preset", "fast", "--chunk-size", "10", "--face-mask-blur", "0.2"]
    let byOptions = try CLITests.swapline(["jobs", "submit", "-s", "samples/grace_hopper.jpg", "-t", try VideoJobTests.smallClip, "-o", mp4]
                                          + options + cluster)
    #expect(byOptions.status == 0 && byOptions.stdout.contains("job 3: submitted, 3 chunks"), "\(byOptions.stdout) \(byOptions.stderr)")
    let byFile = try submitFile(#"""
      {"paths": {"sources": ["samples/grace_hopper.jpg"], "target": "\#(try VideoJobTests.smallClip)", "output": "\#(mp4)"},
       "faceDetector": {"score": 0.4, "angles": [0, 90]}, "faceSelector": {"mode": "one", "order": "left-right"},
       "faceMasker": {"blur": 0.2}, "output": {"videoQuality": 70, "videoPreset": "fast"},
       "video": {"trackerSmoothing": 0.8, "trimFrameStart": 10, "trimFrameEnd": 40, "chunkSize": 10}}
      """#)
    #expect(byFile.status == 0 && byFile.stdout.contains("job 3: already submitted"), "\(byFile.stdout) \(byFile.stderr)")
    let refused: [(String, [String], String)] = [
      (#"{"paths": \#(paths), "video": {"chunkSize": 0}}"#, [], "video.chunkSize (--chunk-size) must be at least 1"),
      (#"{"paths": \#(paths), "faceSwapper": {"wieght": 0.4}}"#, [], "faceSwapper.wieght is not a configuration key"),
      (#"{"paths": \#(paths), "output": {"videoEncoder": "ffv1"}}"#, ["--face-mask-blur", "0.1"], "only --database URL and --storage DIR go beside it"),
      (#"{"paths": {"sources": ["samples/grace_hopper.jpg"], "target": "samples/astronaut.png", "output": "x.png"}}"#, [],
       "paths.output must be a video"),
    ]
    for (json, extra, message) in refused {
      let result = try submitFile(json, extra)
      #expect(result.status == 2 && result.stderr.contains(message), "\(json): \(result.status) \(result.stderr)")
    }
    // A source without a face is refused at submission, before the store sees a job.
    let blank = storage + "/blank.png"
    _ = try CLITests.run("/usr/bin/ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i", "color=c=gray:s=160x120", "-frames:v", "1", blank])
    let faceless = try submitFile(#"{"paths": {"sources": ["\#(blank)"], "target": "\#(try VideoJobTests.smallClip)", "output": "\#(mp4)"}}"#)
    #expect(faceless.status == 2 && faceless.stderr.contains("no face found in the source image(s)"), "\(faceless.stderr)")
    #expect(try store().jobs().count == 3)
  }

  @Test func aDatabaseRestartMidJobIsSurvived() throws {
    try submit()
    let first = try worker("w1"), boss = try coordinator()
    defer { [first, boss].forEach { $0.stop() } }
    try wait("a first chunk done") { try store().chunks(job: 1).contains { $0.state == .done } }
    try server.restart()
    try wait("a second chunk done") { try store().chunks(job: 1).filter { $0.state == .done }.count >= 2 }
    // Then a long outage (8 s down, far longer than a restart): worker and coordinator wait for it.
    try server.outage(seconds: 8)
    try wait("the job to be done") { try jobState() == .done }
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
    #expect(first.process.isRunning && boss.process.isRunning, "worker:\n\(first.text)\ncoordinator:\n\(boss.text)")
    #expect((first.text + boss.text).contains("waiting for the database"), "worker:\n\(first.text)\ncoordinator:\n\(boss.text)")
  }

  @Test func aChunkThatAlwaysFailsEndsDeadAndRetryRevivesIt() throws {
    try submit()
    // Frame 25 (chunk 2) is made to fail on every attempt.
    let faulty = try worker("faulty", environment: ["SWAPLINE_INJECT_CORRUPT_FRAME": "25"]), boss = try coordinator()
    try wait("the job to fail") { try jobState() == .failed }
    faulty.stop()
    let chunk = try store().chunks(job: 1)[2]
    #expect(chunk.state == .dead && chunk.attempt == 3 && (chunk.lastError ?? "").contains("frame 25 is corrupt"), "\(chunk)")
    let show = try CLITests.swapline(["jobs", "show", "1"] + cluster)
    #expect(show.stdout.contains("job 1: failed (chunk 2 (frames 20-29) failed 3 times") && show.stdout.contains("frame 25 is corrupt"),
            "\(show.stdout)")
    #expect(!FileManager.default.fileExists(atPath: output))
    // Cluster jobs are not resumed on this machine; retry revives it and a healthy worker finishes the job.
    let resume = try CLITests.swapline(["jobs", "resume", "1"] + cluster)
    #expect(resume.status == 2 && resume.stderr.contains("cluster jobs are run by workers"), "\(resume.stderr)")
    let retry = try CLITests.swapline(["jobs", "retry", "1"] + cluster)
    #expect(retry.status == 0 && retry.stdout.contains("1 chunk back to pending"), "\(retry.stdout)")
    let healthy = try worker("healthy")
    defer { [healthy, boss].forEach { $0.stop() } }
    try wait("the job to be done") { try jobState() == .done }
    #expect(try VideoJobTests.frameHashes(output) == VideoJobTests.reference)
  }

  /// A worker whose model files differ from the submitted job's refuses it (and `--once` then
  /// exits, logging JSON lines); SIGTERM to a working worker (a service group with its metrics
  /// endpoint) hands its chunk back at once, long before the lease would expire, and exits 0; `jobs list` and `jobs cancel` work on the cluster store.
  @Test func aWorkerWithOtherModelsRefusesAndSIGTERMReleasesItsLease() throws {
    let models = storage + "/models"
    try FileManager.default.createDirectory(atPath: models, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: CLITests.root + "/models/scrfd_2.5g_kps.onnx", toPath: models + "/scrfd_2.5g_kps.onnx")
    try FileManager.default.createSymbolicLink(atPath: models + "/shape_predictor_68_face_landmarks.dat",
                                               withDestinationPath: CLITests.root + "/models/shape_predictor_68_face_landmarks.dat")
    let result = try CLITests.swapline(["jobs", "submit", "-s", "samples/grace_hopper.jpg", "-t", try VideoJobTests.smallClip, "-o", output,
                                        "--models-dir", models] + VideoJobTests.lossless + cluster)
    #expect(result.status == 0, "\(result.stderr)")
    // This node's detector is another file (one more protobuf field: same graph, other bytes).
    let original = try Data(contentsOf: URL(fileURLWithPath: models + "/scrfd_2.5g_kps.onnx"))
    try (original + Data([0x32, 0x04]) + Data("node".utf8)).write(to: URL(fileURLWithPath: models + "/scrfd_2.5g_kps.onnx"))
    let refusing = try CLITests.swapline(["worker", "--once", "--log-json", "--poll-interval", "0.2"] + cluster)
    #expect(refusing.status == 0, "\(refusing.stderr)")
    let lines = refusing.stderr.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    #expect(!lines.isEmpty && lines.allSatisfy { $0?["time"] != nil && $0?["role"] as? String == "worker" && $0?["level"] != nil },
            "not JSON lines: \(refusing.stderr)")
    #expect(lines.contains { ($0?["message"] as? String ?? "").hasPrefix("refused job") && $0?["job"] as? String == "1" }, "\(refusing.stderr)")
    #expect(try store().chunks(job: 1).allSatisfy { $0.state == .pending && $0.attempt == 0 })

    try original.write(to: URL(fileURLWithPath: models + "/scrfd_2.5g_kps.onnx"))
    // With its metrics endpoint: SIGTERM shuts the whole service group down, endpoint included.
    let working = try worker("working", lease: 120, extra: ["--metrics-port", "0"])
    try wait("a chunk leased") { try store().chunks(job: 1).contains { $0.state == .leased } }
    let signalled = Date()
    kill(working.process.processIdentifier, SIGTERM)
    try wait("the lease handed back", seconds: 15) { try store().chunks(job: 1).allSatisfy { $0.state != .leased } }
    #expect(Date().timeIntervalSince(signalled) < 10, "took \(Date().timeIntervalSince(signalled)) s with a 120 s lease")
    working.process.waitUntilExit()
    #expect(working.process.terminationStatus == 0 && working.text.contains("swapline worker: stopped"), "\(working.text)")
    #expect(try store().chunks(job: 1).allSatisfy { $0.state == .pending || $0.state == .done })

    let list = try CLITests.swapline(["jobs", "list"] + cluster)
    #expect(list.status == 0 && list.stdout.hasPrefix("1\trunning"), "\(list.stdout) \(list.stderr)")
    let cancel = try CLITests.swapline(["jobs", "cancel", "1"] + cluster)
    #expect(cancel.status == 0, "\(cancel.stderr)")
    #expect(try jobState() == .cancelled)
  }
}
