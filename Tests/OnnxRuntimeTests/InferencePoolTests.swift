import Foundation
import OnnxRuntime
import Testing

@Suite struct InferencePoolTests {
  /// Two distinct real model files; the pool's size estimate is replaced so the budget is exact.
  let first = Fixtures.scrfdModel
  let second = Fixtures.testModel("yoloface_8n_synthetic.onnx")

  func pool(budget: Int64, strategy: VideoMemoryStrategy = .tolerant) throws -> InferencePool {
    InferencePool(runtime: try Fixtures.runtime,
                  configuration: InferencePoolConfiguration(budgetBytes: budget, strategy: strategy),
                  sizeEstimate: { _ in 100 })
  }

  @Test func reusesSessionsLazily() throws {
    let pool = try pool(budget: 1_000)
    #expect(pool.counters.loads == 0)
    let a = try pool.session(for: first, owner: "face_detector")
    let b = try pool.session(for: first, owner: "face_detector")
    #expect(a === b)
    #expect(pool.counters.loads == 1)
    #expect(pool.counters.hits == 1)
    #expect(pool.counters.residentBytes == 100)
    #expect(pool.counters.loadSeconds > 0)
  }

  @Test func aBudgetSmallerThanTwoModelsEvictsTheOlderOne() throws {
    let pool = try pool(budget: 150)
    let old = try pool.session(for: first, owner: "face_detector")
    _ = try pool.session(for: second, owner: "face_detector")
    #expect(pool.residentModels == [second])
    #expect(pool.counters.evictions == 1)
    #expect(pool.counters.residentBytes == 100)
    // The evicted session still works for whoever holds it.
    let input = Tensor(shape: [1, 3, 640, 640], floats: [Float](repeating: 0, count: 3 * 640 * 640))
    #expect(try old.run([old.inputs[0].name: input]).count == 9)
    // Asking again reloads it and now evicts the other one.
    _ = try pool.session(for: first, owner: "face_detector")
    #expect(pool.counters.loads == 3)
    #expect(pool.residentModels == [first])
  }

  @Test func leastRecentlyUsedGoesFirst() throws {
    let pool = try pool(budget: 250)
    let third = Fixtures.testModel("yunet_2023_mar_synthetic.onnx")
    _ = try pool.session(for: first, owner: "a")
    _ = try pool.session(for: second, owner: "b")
    _ = try pool.session(for: first, owner: "a")  // first is now the most recent
    _ = try pool.session(for: third, owner: "c")
    #expect(Set(pool.residentModels) == [first, third])
  }

  @Test func memoryStrategiesReleaseWhatFaceFusionReleases() throws {
    let moderate = try pool(budget: 1_000, strategy: .moderate)
    try moderate.prefetch([(first, "face_detector"), (second, "face_swapper")])
    moderate.stageFinished(owner: "face_swapper")
    #expect(moderate.residentModels == [first])

    let strict = try pool(budget: 1_000, strategy: .strict)
    try strict.prefetch([(first, "face_detector"), (second, "face_swapper")])
    strict.stageFinished(owner: "face_swapper")
    #expect(strict.residentModels.isEmpty)

    let tolerant = try pool(budget: 1_000, strategy: .tolerant)
    try tolerant.prefetch([(first, "face_detector"), (second, "face_swapper")])
    tolerant.stageFinished(owner: "face_swapper")
    #expect(tolerant.residentModels.count == 2)
  }

  /// A released session is really freed even while a processor still holds it, and its next run
  /// loads it again and gives the same result.
  @Test func aReleasedSessionIsFreedAndLoadsAgainOnItsNextRun() throws {
    let strict = try pool(budget: 1_000, strategy: .strict)
    let detector = try strict.session(for: first, owner: "face_detector")
    let input = Tensor(shape: [1, 3, 640, 640], floats: (0..<(3 * 640 * 640)).map { Float($0 % 255) / 255 })
    let before = try detector.run([detector.inputs[0].name: input]).map { $0.floats() }
    #expect(strict.stageFinished(owner: "face_swapper").map(\.modelPath) == [first])
    #expect(!detector.isLoaded && detector.reloadCount == 0)
    let after = try detector.run([detector.inputs[0].name: input]).map { $0.floats() }
    #expect(detector.isLoaded && detector.reloadCount == 1)
    #expect(after == before)
    // Tolerant keeps it loaded.
    let tolerant = try pool(budget: 1_000, strategy: .tolerant)
    let kept = try tolerant.session(for: first, owner: "face_detector")
    #expect(tolerant.stageFinished(owner: "face_detector").isEmpty && kept.isLoaded)
  }

  @Test func prefetchFailsUpFrontForAMissingModel() throws {
    let pool = try pool(budget: 1_000)
    #expect(throws: OnnxRuntimeError.self) { try pool.prefetch([("/nonexistent.onnx", "x")]) }
  }

  @Test func defaultBudgetIsHalfOfMemoryOrMostOfTheDevice() {
    #expect(InferencePoolConfiguration.defaultBudget(physicalMemory: 24 << 30) == 12 << 30)
    #expect(InferencePoolConfiguration.defaultBudget(physicalMemory: 24 << 30, deviceMemory: 80 << 30) == 64 << 30)
  }

  /// Eight threads asking at once for the same model get one session, loaded once.
  @Test func concurrentRequestsLoadAModelOnce() async throws {
    let pool = try pool(budget: 1_000)
    let path = first
    let sessions = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
      for _ in 0..<8 { group.addTask { ObjectIdentifier(try pool.session(for: path, owner: "face_detector")) } }
      return try await group.reduce(into: Set<ObjectIdentifier>()) { $0.insert($1) }
    }
    #expect(sessions.count == 1)
    #expect(pool.counters.loads == 1 && pool.counters.hits == 7)
  }

  /// The real size estimate (not replaced): a model's resident cost is its file size, so a
  /// budget between one model and two keeps one.
  @Test func theDefaultEstimateIsTheFileSize() throws {
    let scrfd = try FileManager.default.attributesOfItem(atPath: first)[.size] as! NSNumber
    let yolo = try FileManager.default.attributesOfItem(atPath: second)[.size] as! NSNumber
    #expect(InferencePool.fileSize(first) == scrfd.int64Value && scrfd.int64Value > 3_000_000)
    let pool = InferencePool(runtime: try Fixtures.runtime,
                             configuration: InferencePoolConfiguration(budgetBytes: scrfd.int64Value + yolo.int64Value / 2))
    _ = try pool.session(for: first, owner: "a")
    #expect(pool.counters.residentBytes == scrfd.int64Value)
    _ = try pool.session(for: second, owner: "b")
    #expect(pool.residentModels == [second] && pool.counters.evictions == 1)
  }
}
