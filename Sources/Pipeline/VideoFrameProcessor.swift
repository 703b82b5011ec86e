import Imaging

/// The per-frame work of a video run, split in two so that the model-heavy analysis of frame n+1
/// overlaps the rendering of frame n on another core.
///
/// `analyse` is called in frame order on one thread (it may keep tracking state); `render` is
/// called in the same order on a second thread, concurrently with later `analyse` calls, so it
/// must only read state that `analyse` does not change.
public protocol VideoFrameProcessor: AnyObject, Sendable {
  associatedtype Analysis: Sendable
  /// Starts a chunk: tracking state is reset so a chunk's output depends only on its own frames,
  /// which makes a resumed or redistributed run identical to an uninterrupted one.
  func beginChunk(at frame: Int)
  /// Detects (or tracks) and selects faces and computes everything model-based for one frame.
  func analyse(_ frame: Image, index: Int) throws -> Analysis
  /// Applies the processors to the frame using the analysis.
  func render(_ frame: Image, analysis: Analysis) throws -> Image
}
