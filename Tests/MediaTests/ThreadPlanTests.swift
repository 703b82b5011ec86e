import Media
import Testing

/// README: "--workers N ... the cores are divided between them"; the stage that sets the pace
/// (from measured costs) gets the cores. Checked for machines other than this 2-core one, since
/// the plan is a pure function.
@Suite struct ThreadPlanTests {
  @Test func coresAreDividedBetweenLocalWorkers() {
    // (cores, workers) -> (global pool threads each, analysis on its own thread, helper threads each)
    let cases: [(Int, Int, Int, Bool, Int)] = [(2, 1, 2, true, 1), (8, 1, 8, false, 1), (8, 2, 4, false, 1), (16, 4, 4, false, 1),
                                                (16, 2, 8, false, 1), (4, 8, 1, false, 1), (4, 2, 2, true, 1), (1, 1, 1, false, 1)]
    for (cores, workers, pool, callerOnly, helpers) in cases {
      let plan = ThreadPlan.forVideo(cores: cores, workers: workers, threadOverride: nil, cpuOnly: true, pinning: true)
      #expect(plan.intraOpThreads == pool && plan.analysisOnCallerThread == callerOnly && plan.helpers.threads == helpers,
              "\(cores) cores, \(workers) workers: \(plan)")
      #expect(plan.helpers.niceness == 10 && plan.bottleneck == .analysis)
      // The pool is decided before models load, and the full plan agrees with it.
      let early = ThreadPlan.threads(cores: cores, workers: workers, threadOverride: nil, cpuOnly: true)
      #expect(early.pool == pool && early.analysisOnCallerThread == callerOnly)
    }
    // --execution-thread-count sets the pool, and every model uses it.
    let fixed = ThreadPlan.forVideo(cores: 8, workers: 1, threadOverride: 3, cpuOnly: true, pinning: true)
    #expect(fixed.intraOpThreads == 3 && !fixed.analysisOnCallerThread && fixed.helpers.threads == 5)
  }

  @Test func onlyOneSingleThreadedAnalysisBoundCPUWorkerIsPinned() {
    let two = ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true)
    #expect(two.analysisCPUs == [0] && two.helpers.cpus == [1] && two.render == two.helpers)
    let eight = ThreadPlan.forVideo(cores: 8, workers: 1, threadOverride: 1, cpuOnly: true, pinning: true)
    #expect(eight.analysisCPUs == [0] && eight.helpers.cpus == Array(1..<8) && eight.helpers.threads == 7)
    for plan in [ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: false),  // --no-thread-pinning
                 ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: 2, cpuOnly: true, pinning: true),   // --execution-thread-count 2
                 ThreadPlan.forVideo(cores: 2, workers: 2, threadOverride: nil, cpuOnly: true, pinning: true),  // --workers 2
                 ThreadPlan.forVideo(cores: 1, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true),
                 ThreadPlan.forVideo(cores: 8, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true)] {  // analysis on the pool
      #expect(plan.analysisCPUs == nil && plan.helpers.cpus == nil, "\(plan)")
    }
    // GPU inference: the CPU is for helpers, left to the scheduler.
    let gpu = ThreadPlan.forVideo(cores: 8, workers: 1, threadOverride: nil, cpuOnly: false, pinning: true)
    #expect(gpu.helpers == .unrestricted && gpu.render == .unrestricted && gpu.analysisCPUs == nil && gpu.intraOpThreads == 7)
  }

  /// A zoo swapper costs far more a frame than detection: the render thread gets the machine
  /// (normal priority, the pool of every core, nothing pinned); only ffmpeg and decoding are lowered.
  @Test func theMeasuredBottleneckGetsTheCores() {
    let neural = ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true,
                                     costs: StageCosts(analysis: 0.2, render: 2.3))
    #expect(neural.bottleneck == .render && neural.intraOpThreads == 2 && neural.analysisOnCallerThread)
    #expect(neural.render == .unrestricted && neural.analysisCPUs == nil)
    #expect(neural.helpers.niceness == 10 && neural.helpers.cpus == nil && neural.helpers.threads == 1)
    // Cheap render models (e.g. a small enhancer) behind expensive analysis: the analysis-bound plan.
    let cheap = ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true,
                                    costs: StageCosts(analysis: 0.2, render: 0.05))
    #expect(cheap == ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true))
    #expect(cheap.bottleneck == .analysis && cheap.analysisCPUs == [0])
  }
}
