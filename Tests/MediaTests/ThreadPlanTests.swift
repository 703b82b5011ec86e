import Media
import Testing

/// README: "--workers N ... the cores are divided between them"; inference pinned to one core with
/// helpers on the others only for one worker with single-threaded inference. Checked for machines
/// other than this 2-core one (where the shares coincide), since the plan is a pure function.
@Suite struct ThreadPlanTests {
  @Test func coresAreDividedBetweenLocalWorkers() {
    // (cores, workers) -> (intra-op threads each, helper threads each)
    let cases: [(Int, Int, Int, Int)] = [(2, 1, 1, 1), (8, 1, 7, 1), (8, 2, 3, 1), (16, 4, 3, 1), (16, 2, 7, 1), (4, 8, 1, 1)]
    for (cores, workers, intraOp, helpers) in cases {
      let plan = ThreadPlan.forVideo(cores: cores, workers: workers, threadOverride: nil, cpuOnly: true, pinning: true)
      #expect(plan.intraOpThreads == intraOp && plan.helpers.threads == helpers, "\(cores) cores, \(workers) workers: \(plan)")
      #expect(plan.helpers.niceness == 10)
    }
  }

  @Test func onlyOneSingleThreadedCPUWorkerIsPinned() {
    let two = ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true)
    #expect(two.analysisCPUs == [0] && two.helpers.cpus == [1])
    let eight = ThreadPlan.forVideo(cores: 8, workers: 1, threadOverride: 1, cpuOnly: true, pinning: true)
    #expect(eight.analysisCPUs == [0] && eight.helpers.cpus == Array(1..<8) && eight.helpers.threads == 7)
    for plan in [ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: nil, cpuOnly: true, pinning: false),  // --no-thread-pinning
                 ThreadPlan.forVideo(cores: 2, workers: 1, threadOverride: 2, cpuOnly: true, pinning: true),   // --execution-thread-count 2
                 ThreadPlan.forVideo(cores: 2, workers: 2, threadOverride: nil, cpuOnly: true, pinning: true),  // --workers 2
                 ThreadPlan.forVideo(cores: 1, workers: 1, threadOverride: nil, cpuOnly: true, pinning: true)] {
      #expect(plan.analysisCPUs == nil && plan.helpers.cpus == nil, "\(plan)")
    }
    // GPU inference: the CPU is for helpers, left to the scheduler.
    let gpu = ThreadPlan.forVideo(cores: 8, workers: 1, threadOverride: nil, cpuOnly: false, pinning: true)
    #expect(gpu.helpers == .unrestricted && gpu.analysisCPUs == nil)
  }
}
