import Foundation

extension SwapConfiguration {
  /// Every setting that changes a video's output, by its option name, with values in one form:
  /// paths resolved (by `resolve`), unordered lists sorted, settings of processors (or swapper
  /// kinds) that do not run left out. Part of a job's fingerprint: the same work asked for in
  /// other words is the same job; execution and memory settings never enter it.
  public func jobOptions(resolve: (String) -> String) -> [String: String] {
    func list<T: CustomStringConvertible>(_ values: [T]) -> String { values.map(\.description).joined(separator: " ") }
    func sortedNames<T: RawRepresentable>(_ values: [T]) -> String where T.RawValue == String { list(Set(values.map(\.rawValue)).sorted()) }
    var options: [String: String] = [
      "--source": list(paths.sources.map(resolve)), "--processors": list(processors.map(\.rawValue)),
      "--face-detector-model": faceDetector.model.rawValue, "--face-detector-size": String(faceDetector.size),
      "--face-detector-score": "\(faceDetector.score)", "--face-detector-angles": list(Set(faceDetector.angles).sorted()),
      "--face-detector-interval": String(video.detectorInterval), "--face-tracker-smoothing": "\(video.trackerSmoothing)",
      "--face-detector-coarse": video.coarseDetection ? "on" : "off",
      "--face-selector-mode": faceSelector.mode.rawValue, "--face-selector-order": faceSelector.order.rawValue,
    ]
    if faceSelector.mode == .reference {
      options["--reference-face-position"] = String(faceSelector.referencePosition)
      options["--reference-face-distance"] = "\(faceSelector.referenceDistance)"
    }
    if processors.contains(.faceSwapper) {
      options["--face-swapper-model"] = faceSwapper.model
      options["--hand-occlusion"] = faceMasker.handOcclusion.rawValue
      if faceSwapper.model != "classic" {
        options["--face-swapper-weight"] = "\(faceSwapper.weight)"
        options["--face-swapper-pixel-boost"] = faceSwapper.pixelBoost.map { "\($0)x\($0)" } ?? ""
        options["--face-mask-types"] = sortedNames(faceMasker.types)
        options["--face-mask-blur"] = "\(faceMasker.blur)"
        options["--face-mask-padding"] = list(faceMasker.padding)
        options["--face-mask-areas"] = sortedNames(faceMasker.areas)
        options["--face-mask-regions"] = sortedNames(faceMasker.regions)
        options["--face-occluder-model"] = faceMasker.occluderModel.rawValue
        options["--face-parser-model"] = faceMasker.parserModel.rawValue
        options["--face-landmarker-model"] = faceLandmarker.model.rawValue
        options["--face-landmarker-score"] = "\(faceLandmarker.score)"
      }
    }
    if processors.contains(.faceEnhancer) {
      options["--face-enhancer-model"] = faceEnhancer.model
      options["--face-enhancer-blend"] = String(faceEnhancer.blend)
      // The enhancer pastes back through the box mask too.
      options["--face-mask-blur"] = "\(faceMasker.blur)"
    }
    if processors.contains(.frameEnhancer) {
      options["--frame-enhancer-model"] = frameEnhancer.model
      options["--frame-enhancer-blend"] = String(frameEnhancer.blend)
    }
    return options
  }
}
