import Foundation
import Imaging

/// Reads frames on a background thread into a bounded queue, so ffmpeg's decoding overlaps the
/// caller's processing (a pipe buffer is far smaller than one frame). Memory stays bounded by
/// `capacity` items: the reader waits when the queue is full. `prepare` runs on that thread too,
/// so per-frame work that needs no state (colour conversion, model input tensors) is off the
/// consumer's thread.
public final class FramePrefetcher<Item: Sendable>: Sendable {
  private let queue: BoundedQueue<Item>

  /// Takes ownership of `reader`; only the background thread touches it afterwards. `prepare`
  /// gets each frame and its position in the range (0, 1, ...).
  public init(_ reader: FrameReader, capacity: Int = 4, prepare: @escaping @Sendable (Image, Int) throws -> Item) {
    let queue = BoundedQueue<Item>(capacity: capacity)
    self.queue = queue
    let source = UnsafeTransfer(reader)
    let thread = Thread {
      var position = 0
      do {
        while let frame = try source.value.next() {
          // False once the consumer cancelled: stop reading.
          guard queue.push(try prepare(frame, position)) else { return }
          position += 1
        }
        queue.close()
      } catch {
        queue.close(error: error)
      }
    }
    thread.name = "swapline.decode"
    thread.start()
  }

  deinit { cancel() }

  /// The next item in order, nil at the end; rethrows the reader's (or `prepare`'s) error at the
  /// point it occurred.
  public func next() throws -> Item? {
    if let item = queue.pop() { return item }
    if let error = queue.error { throw error }
    return nil
  }

  /// Stops the background reader (its ffmpeg process ends when the reader is released).
  public func cancel() { queue.fail() }
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
