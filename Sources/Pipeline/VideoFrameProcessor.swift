import Imaging

/// The per-frame work of a video run, split in three so that the model-heavy analysis of frame n+1
/// overlaps the rendering of frame n on another core.
///
/// `analyse` is called in frame order on one thread (it may keep tracking state); `render` is
/// called in the same order on a second thread, concurrently with later `analyse` calls, so it
/// must only read state that `analyse` does not change.
public protocol VideoFrameProcessor: AnyObject, Sendable {
  /// Per-frame work that needs no state, done on the decoding thread (colour conversion, model
  /// input tensors), so the analysis thread only runs models.
  associatedtype Prepared: Sendable
  associatedtype Analysis: Sendable
  /// Called on the decoding thread, in order; `position` is the frame's place in its chunk.
  func prepare(_ frame: Image, index: Int, position: Int) throws -> Prepared
  /// Starts a chunk: tracking state is reset so a chunk's output depends only on its own frames,
  /// which makes a resumed or redistributed run identical to an uninterrupted one.
  func beginChunk(at frame: Int)
  /// Detects (or tracks) and selects faces and computes everything model-based for one frame.
  func analyse(_ frame: Image, prepared: Prepared, index: Int) throws -> Analysis
  /// Applies the processors to the frame using the analysis.
  func render(_ frame: Image, analysis: Analysis) throws -> Image
}
