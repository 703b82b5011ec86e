import Server

/// Every metric the cluster services expose, declared once (docs/CLUSTER.md lists them).
enum ClusterMetrics {
  // Worker
  static let workerAttempts = Metric("swapline_worker_attempts_total", .counter, "Chunk attempts by outcome (ok, error, lease_lost, fenced).")
  static let workerStaleCommits = Metric("swapline_worker_stale_commits_rejected_total", .counter,
                                         "Commits refused because the lease had been re-granted.")
  static let workerFrames = Metric("swapline_worker_frames_total", .counter, "Frames rendered and committed.")
  static let workerFPS = Metric("swapline_worker_fps", .gauge, "Frames per second of the last chunk.")
  static let workerChunkSeconds = Metric("swapline_worker_chunk_seconds", .histogram, "Wall time per chunk, claim to commit.",
                                         buckets: [1, 2, 5, 10, 30, 60, 120, 300])
  static let workerQueueWait = Metric("swapline_worker_queue_wait_seconds", .histogram, "Time a chunk waited claimable before this worker claimed it.",
                                      buckets: [0.1, 0.5, 1, 5, 30, 120, 600])
  static let workerPoolResidentBytes = Metric("swapline_worker_pool_resident_bytes", .gauge, "Inference pool: bytes of resident model sessions.")
  static let workerPoolEvictions = Metric("swapline_worker_pool_evictions", .gauge, "Inference pool: sessions evicted by the budget in the current job run.")
  static let worker = [workerAttempts, workerStaleCommits, workerFrames, workerFPS, workerChunkSeconds, workerQueueWait,
                       workerPoolResidentBytes, workerPoolEvictions]

  // Coordinator
  static let chunks = Metric("swapline_chunks", .gauge, "Chunks by state, all jobs.")
  static let jobs = Metric("swapline_jobs", .gauge, "Jobs by state.")
  static let attempts = Metric("swapline_attempts_total", .counter, "Chunk attempts ended by the coordinator, by outcome (lease_expired).")
  static let jobsFinished = Metric("swapline_jobs_finished_total", .counter, "Jobs finished, by outcome (done, failed).")
  static let joinSeconds = Metric("swapline_join_seconds", .histogram, "Time to verify, join and publish a job's output.",
                                  buckets: [0.1, 0.5, 1, 5, 30, 120])
  static let coordinatorCPU = Metric("swapline_coordinator_cpu_seconds_total", .counter, "CPU time of the coordinator process.")
  static let oldestPending = Metric("swapline_oldest_pending_chunk_seconds", .gauge,
                                    "Seconds the longest-waiting claimable chunk of a running job has waited (0: none).")
  static let pendingChunks = Metric("swapline_pending_chunks", .gauge,
                                    "Pending chunks of running jobs, by tenant (\"-\": command-line jobs): the work waiting for workers.")
  static let leading = Metric("swapline_coordinator_leading", .gauge, "1 while this coordinator leads, 0 while it stands by.")
  static let coordinator = [chunks, jobs, attempts, jobsFinished, joinSeconds, coordinatorCPU, oldestPending, pendingChunks, leading]
}
