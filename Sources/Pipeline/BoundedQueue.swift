import Foundation

/// A blocking FIFO of at most `capacity` items joining two pipeline stages: a fast producer waits
/// (backpressure), so memory stays bounded whatever the video's length. `close()` ends the
/// stream; `fail()` wakes both sides so an error on either stops the other.
// @unchecked: every field is touched only while holding `condition`.
final class BoundedQueue<Element>: @unchecked Sendable {
  private let condition = NSCondition()
  private var items: [Element] = []
  private var closed = false
  private var failed = false
  let capacity: Int

  init(capacity: Int) { self.capacity = max(1, capacity) }

  /// False when the queue failed (the consumer gave up); the item is dropped.
  @discardableResult
  func push(_ item: Element) -> Bool {
    condition.lock()
    defer { condition.unlock() }
    while items.count >= capacity && !failed { condition.wait() }
    guard !failed else { return false }
    items.append(item)
    condition.broadcast()
    return true
  }

  /// The next item, or nil once closed and drained (or failed).
  func pop() -> Element? {
    condition.lock()
    defer { condition.unlock() }
    while items.isEmpty && !closed && !failed { condition.wait() }
    guard !failed, !items.isEmpty else { return nil }
    let item = items.removeFirst()
    condition.broadcast()
    return item
  }

  func close() {
    condition.lock()
    closed = true
    condition.broadcast()
    condition.unlock()
  }

  func fail() {
    condition.lock()
    failed = true
    items.removeAll()
    condition.broadcast()
    condition.unlock()
  }
}
