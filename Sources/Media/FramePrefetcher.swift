import Foundation
import Imaging

/// Reads frames on a background thread into a bounded queue, so ffmpeg's decoding overlaps the
/// caller's processing (a pipe buffer is far smaller than one frame). Memory stays bounded by
/// `capacity` items: the reader waits when the queue is full. `prepare` runs on that thread too,
/// so per-frame work that needs no state (colour conversion, model input tensors) is off the
/// consumer's thread.
// @unchecked: every field is touched only while holding `lock`.
public final class FramePrefetcher<Item: Sendable>: @unchecked Sendable {
  private let lock = NSCondition()
  private var queue: [Item] = []
  private var finished = false
  private var failure: (any Error)?
  private var cancelled = false
  private let capacity: Int

  /// Takes ownership of `reader`; only the background thread touches it afterwards. `prepare`
  /// gets each frame and its position in the range (0, 1, ...).
  public init(_ reader: FrameReader, capacity: Int = 4, prepare: @escaping @Sendable (Image, Int) throws -> Item) {
    self.capacity = max(1, capacity)
    let source = UnsafeTransfer(reader)
    let thread = Thread { [self] in
      var position = 0
      while true {
        let item: Item?
        do {
          item = try source.value.next().map { try prepare($0, position) }
          position += 1
        } catch {
          lock.lock()
          failure = error
          finished = true
          lock.broadcast()
          lock.unlock()
          return
        }
        lock.lock()
        guard let item else {
          finished = true
          lock.broadcast()
          lock.unlock()
          return
        }
        while queue.count >= self.capacity && !cancelled { lock.wait() }
        if cancelled {
          lock.unlock()
          return
        }
        queue.append(item)
        lock.broadcast()
        lock.unlock()
      }
    }
    thread.name = "swapline.decode"
    thread.start()
  }

  deinit { cancel() }

  /// The next item in order, nil at the end; rethrows the reader's (or `prepare`'s) error at the
  /// point it occurred.
  public func next() throws -> Item? {
    lock.lock()
    defer { lock.unlock() }
    while queue.isEmpty && !finished { lock.wait() }
    if !queue.isEmpty {
      let item = queue.removeFirst()
      lock.broadcast()
      return item
    }
    if let failure { throw failure }
    return nil
  }

  /// Stops the background reader (its ffmpeg process ends when the reader is released).
  public func cancel() {
    lock.lock()
    cancelled = true
    lock.broadcast()
    lock.unlock()
  }
}

extension FramePrefetcher where Item == Image {
  public convenience init(_ reader: FrameReader, capacity: Int = 4) {
    self.init(reader, capacity: capacity) { frame, _ in frame }
  }
}

/// Moves a non-Sendable value to the one thread that uses it from then on.
// @unchecked: the value changes threads once and the sender keeps no reference.
struct UnsafeTransfer<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
