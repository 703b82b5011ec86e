import Foundation
import Imaging
import Media
import Synchronization

/// Why a chunk stopped early.
public struct ChunkInterrupted: Error, CustomStringConvertible {
  public let description: String
}

/// Renders frames [start, start + count) of a video into one segment file:
///
///     ffmpeg decode -> [prefetch thread] -> analyse (this thread) -> [queue] -> render + encode thread -> ffmpeg encode
///
/// Each arrow is a bounded queue or a pipe, so at most a handful of frames are in memory. The
/// segment appears at `segment` only when complete and flushed (FrameWriter's .part + fsync +
/// rename). `shouldStop` is polled every frame (a lost lease, a signal) and aborts the chunk.
public struct ChunkRenderer<Processor: VideoFrameProcessor> {
  public let processor: Processor
  public let encoding: VideoEncoding
  public var queueCapacity = 3

  public init(processor: Processor, encoding: VideoEncoding) {
    self.processor = processor
    self.encoding = encoding
  }

  /// Returns the number of frames written.
  public func render(target: String, info: MediaInfo, start: Int, count: Int, segment: String,
                     shouldStop: @escaping @Sendable () -> Bool = { false },
                     frameDone: @escaping @Sendable () -> Void = {}) throws -> Int {
    let reader = FramePrefetcher(try FrameReader(path: target, info: info, start: start, count: count), capacity: 4)
    defer { reader.cancel() }
    let writer = try FrameWriter(path: segment, width: info.width, height: info.height, frameRate: info.frameRate, encoding: encoding)
    let queue = BoundedQueue<(Image, Processor.Analysis)>(capacity: queueCapacity)
    let renderFailure = Mutex<(any Error)?>(nil)
    let renderDone = DispatchSemaphore(value: 0)
    let processor = self.processor
    let box = UncheckedBox(writer)
    let thread = Thread {
      defer { renderDone.signal() }
      while let (frame, analysis) = queue.pop() {
        do {
          let result = try processor.render(frame, analysis: analysis)
          // A processor that changes the size (frame enhancer) cannot go into this video's stream.
          try box.value.write(result.width == frame.width && result.height == frame.height ? result : frame)
          frameDone()
        } catch {
          renderFailure.withLock { $0 = error }
          queue.fail()
          return
        }
      }
    }
    thread.name = "swapline.render"
    thread.start()

    var analysed = 0
    do {
      processor.beginChunk(at: start)
      while let frame = try reader.next() {
        if shouldStop() { throw ChunkInterrupted(description: "chunk at frame \(start) interrupted") }
        let analysis = try processor.analyse(frame, index: start + analysed)
        analysed += 1
        guard queue.push((frame, analysis)) else { break }
      }
      queue.close()
    } catch {
      queue.fail()
      renderDone.wait()
      throw error
    }
    renderDone.wait()
    if let error = renderFailure.withLock({ $0 }) { throw error }
    guard writer.framesWritten == count else {
      throw MediaError(.badInput, "decoded \(writer.framesWritten) of \(count) frames from frame \(start)")
    }
    try writer.finish()
    return count
  }
}

/// Hands a non-Sendable object to exactly one other thread, which alone uses it until joined.
struct UncheckedBox<Value>: @unchecked Sendable {
  let value: Value
  init(_ value: Value) { self.value = value }
}
