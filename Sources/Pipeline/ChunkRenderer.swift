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
///     ffmpeg decode -> prepare (decode thread) -> analyse (caller's thread) -> [queue] -> render + encode thread -> ffmpeg encode
///
/// Each arrow is a bounded queue or a pipe, so at most a handful of frames are in memory. The
/// segment appears at `segment` only when complete and flushed (FrameWriter's .part + fsync +
/// rename). Opening starts the decoder and encoder, so a worker opens its next chunk while it
/// analyses the current one, and finishes (drains and flushes) a chunk while it analyses the
/// next: chunk boundaries do not stall the analysis thread.
// @unchecked: `analysed` and the wait totals belong to the analysis thread (read after it finishes); the render thread shares only the Mutex, queue and semaphore.
public final class ChunkRender<Processor: VideoFrameProcessor>: @unchecked Sendable {
  public let start: Int
  public let count: Int
  public let segment: String
  private let processor: Processor
  private let reader: FramePrefetcher<(Image, Processor.Prepared)>
  private let writer: FrameWriter
  private let queue: BoundedQueue<(Image, Processor.Analysis)>
  private let renderFailure = Mutex<(any Error)?>(nil)
  private let renderDone = DispatchSemaphore(value: 0)
  private var analysed = 0
  /// Seconds the analysis thread waited for decoded frames, and for room in the render queue.
  public private(set) var waitedForFrames = 0.0
  public private(set) var waitedForRender = 0.0

  public init(processor: Processor, encoding: VideoEncoding, target: String, info: MediaInfo, start: Int, count: Int, segment: String,
              queueCapacity: Int = 8, placement: HelperPlacement = .unrestricted, renderPlacement: HelperPlacement? = nil,
              warmReader: FrameReader? = nil,
              frameDone: @escaping @Sendable () -> Void = {}) throws {
    self.processor = processor
    self.start = start
    self.count = count
    self.segment = segment
    let decoder = try warmReader.flatMap { $0.start == start && $0.count == count ? $0 : nil }
      ?? FrameReader(path: target, info: info, start: start, count: count, placement: placement)
    reader = FramePrefetcher(decoder, capacity: 4) { frame, position in
      if position == 0 { placement.applyToCurrentThread() }
      return (frame, try processor.prepare(frame, index: start + position, position: position))
    }
    // Variable frame rate: every frame keeps its own time (relative to the chunk's first frame).
    let times = info.isVariableFrameRate ? info.frameTimes[start..<(start + count)].map { $0 - info.frameTimes[start] } : nil
    writer = try FrameWriter(path: segment, width: info.width, height: info.height, frameRate: info.frameRate, encoding: encoding,
                             placement: placement, frameTimes: times, colour: info.colour)
    queue = BoundedQueue(capacity: queueCapacity)
    let thread = Thread { [self] in
      defer { renderDone.signal() }
      (renderPlacement ?? placement).applyToCurrentThread()
      while let (frame, analysis) = queue.pop() {
        do {
          let result = try processor.render(frame, analysis: analysis)
          // A processor that changes the size (frame enhancer) cannot go into this video's stream.
          try writer.write(result.width == frame.width && result.height == frame.height ? result : frame)
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
  }

  /// Analyses every frame on the calling thread and hands it to the render thread. `halfway` is
  /// called once, when half the frames are analysed (the worker opens its next chunk then).
  public func analyse(shouldStop: () -> Bool = { false }, halfway: () -> Void = {}) throws {
    do {
      processor.beginChunk(at: start)
      var calledHalfway = false
      var clock = ContinuousClock.now
      while let (frame, prepared) = try reader.next() {
        waitedForFrames += clock.lap()
        if shouldStop() { throw ChunkInterrupted(description: "chunk at frame \(start) interrupted") }
        let analysis = try processor.analyse(frame, prepared: prepared, index: start + analysed)
        analysed += 1
        _ = clock.lap()
        guard queue.push((frame, analysis)) else {
          // The render thread failed: stop the decoder too (finish() reports the render error).
          reader.cancel()
          break
        }
        waitedForRender += clock.lap()
        if !calledHalfway && analysed * 2 >= count {
          calledHalfway = true
          halfway()
        }
      }
      queue.close()
    } catch {
      abandon()
      throw error
    }
  }

  /// Waits for rendering and encoding to end; the segment is then complete at `segment`.
  public func finish() throws -> Int {
    renderDone.wait()
    if let error = renderFailure.withLock({ $0 }) { throw error }
    guard writer.framesWritten == count else {
      throw MediaError(.processFailed, "only \(writer.framesWritten) of \(count) frames from frame \(start) were rendered")
    }
    try writer.finish()
    return count
  }

  /// Stops everything; nothing is left at `segment` (the encoder's .part is removed with it).
  public func abandon() {
    reader.cancel()
    queue.fail()
    renderDone.wait()
    renderDone.signal()  // finish() or a second abandon() must not block
  }
}

extension ContinuousClock.Instant {
  /// Seconds since this instant, which moves to now.
  mutating func lap() -> Double {
    let now = ContinuousClock.now
    defer { self = now }
    let elapsed = now - self
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
  }
}

