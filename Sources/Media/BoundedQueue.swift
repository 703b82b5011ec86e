import Foundation

/// A blocking FIFO of at most `capacity` items joining two pipeline stages: a fast producer waits
/// (backpressure), so memory stays bounded whatever the video's length. `close()` ends the
/// stream (with the producer's error, given to the consumer once it has drained the queue);
/// `fail()` wakes both sides so the consumer giving up stops the producer.
// @unchecked: every field is touched only while holding `condition`.
public final class BoundedQueue<Element>: @unchecked Sendable {
  private let condition = NSCondition()
  private var items: [Element] = []
  private var closed = false
  private var failed = false
  private var closingError: (any Error)?
  public let capacity: Int

  public init(capacity: Int) { self.capacity = max(1, capacity) }

  /// False when the queue failed (the consumer gave up); the item is dropped.
  @discardableResult
  public func push(_ item: Element) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while items.count >= capacity && !failed { condition.wait() }
    guard !failed else { return false }
    items.append(item)
    condition.broadcast()
    return true
  }

  /// The next item, or nil once closed and drained (or failed).
  public func pop() -> Element? {
    condition.lock()
    defer { condition.unlock() }
    while items.isEmpty && !closed && !failed { condition.wait() }
    guard !failed, !items.isEmpty else { return nil }
    let item = items.removeFirst()
    condition.broadcast()
    return item
  }

  /// The error the producer closed the queue with (read after `pop()` returned nil).
  public var error: (any Error)? {
    condition.lock()
    defer { condition.unlock() }
    return closingError
  }

  /// Ends the stream: the consumer drains what is queued, then gets nil (and `error`).
  public func close(error: (any Error)? = nil) {
    condition.lock()
    closed = true
    closingError = error
    condition.broadcast()
    condition.unlock()
  }

  public func fail() {
    condition.lock()
    failed = true
    items.removeAll()
    condition.broadcast()
    condition.unlock()
  }
}
