import Foundation
import Synchronization

/// A body run on a thread of its own, joined later: inference, pinning and blocking pipe I/O
/// belong on dedicated threads, not on Swift concurrency's cooperative ones.
public final class DedicatedThread<Value: Sendable>: Sendable {
  private let done = DispatchSemaphore(value: 0)
  private let result = Mutex<Result<Value, any Error>?>(nil)

  /// Starts `body` now (8 MiB of stack: model runs recurse deeper than a secondary thread's default).
  public init(_ body: @escaping @Sendable () throws -> Value) {
    let thread = Thread { [self] in
      let outcome = Result { try body() }
      result.withLock { $0 = outcome }
      done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
  }

  /// Waits for the body and returns its value or rethrows its error; callable more than once.
  public func join() throws -> Value {
    done.wait()
    done.signal()
    return try result.withLock { $0! }.get()
  }

  /// Waits for the body; its error, if it threw.
  public func joinError() -> (any Error)? {
    do { _ = try join() } catch { return error }
    return nil
  }
}

/// Runs `body` on a dedicated thread and waits for it.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
  try DedicatedThread(body).join()
}

/// Runs `body` on a dedicated thread; the calling task is suspended meanwhile, not blocking a
/// thread of Swift concurrency's pool.
public func onDedicatedThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
  try await withCheckedThrowingContinuation { continuation in
    let thread = Thread { continuation.resume(with: Result { try body() }) }
    thread.stackSize = 8 << 20
    thread.start()
  }
}

/// A stop request (SIGINT/SIGTERM, a parent gone, a service shutting down) that long work looks at
/// between frames and chunks, and that waits (a retry time, a poll interval) end on at once.
public final class StopSignal: Sendable {
  private let flag = Atomic<Bool>(false)
  /// Signalled on a stop; waiters pass it on, so every waiter wakes.
  private let wake = DispatchSemaphore(value: 0)

  private let handlers = Mutex<[@Sendable () -> Void]>([])

  public init() {}

  /// Runs `body` when the stop is raised (at once if it already was): for waits that are not on
  /// this signal, such as a database reconnect.
  public func whenRaised(_ body: @escaping @Sendable () -> Void) {
    let now = handlers.withLock { list -> Bool in
      guard !raised else { return true }
      list.append(body)
      return false
    }
    if now { body() }
  }

  public var raised: Bool { flag.load(ordering: .relaxed) }

  public func raise() {
    let run = handlers.withLock { list -> [@Sendable () -> Void]? in
      guard !flag.exchange(true, ordering: .relaxed) else { return nil }
      defer { list = [] }
      return list
    }
    guard let run else { return }
    wake.signal()
    for body in run { body() }
  }

  /// Waits up to `seconds` on the clock; true if the stop came first.
  @discardableResult
  public func wait(seconds: Double) -> Bool {
    guard !raised else { return true }
    guard wake.wait(timeout: .now() + max(0, seconds)) == .success else { return raised }
    wake.signal()
    return true
  }
}
