import Foundation
import Imaging

/// Reads frames on a background thread into a bounded queue, so ffmpeg's decoding overlaps the
/// caller's processing (a pipe buffer is far smaller than one frame). Memory stays bounded by
/// `capacity` frames: the reader waits when the queue is full.
public final class FramePrefetcher: @unchecked Sendable {
  private let lock = NSCondition()
  private var queue: [Image] = []
  private var finished = false
  private var failure: MediaError?
  private var cancelled = false
  private let capacity: Int

  /// Takes ownership of `reader`; only the background thread touches it afterwards.
  public init(_ reader: FrameReader, capacity: Int = 4) {
    self.capacity = max(1, capacity)
    let thread = Thread { [self] in
      while true {
        let frame: Image?
        do throws(MediaError) {
          frame = try reader.next()
        } catch {
          lock.lock()
          failure = error
          finished = true
          lock.broadcast()
          lock.unlock()
          return
        }
        lock.lock()
        guard let frame else {
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
        queue.append(frame)
        lock.broadcast()
        lock.unlock()
      }
    }
    thread.name = "swapline.decode"
    thread.start()
  }

  deinit { cancel() }

  /// The next frame in order, nil at the end; rethrows the reader's error at the point it occurred.
  public func next() throws(MediaError) -> Image? {
    lock.lock()
    defer { lock.unlock() }
    while queue.isEmpty && !finished { lock.wait() }
    if !queue.isEmpty {
      let frame = queue.removeFirst()
      lock.broadcast()
      return frame
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
