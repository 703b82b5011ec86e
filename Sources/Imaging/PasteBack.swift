extension Image {
  /// Pastes a processed face crop back into the frame, as FaceFusion's paste_back: the crop and
  /// its mask are warped back with the inverse of `transform` (frame -> crop) only inside the
  /// bounding box of the crop's corners, then blended `frame * (1 - m) + crop * m`. Pixels
  /// outside that box are not touched.
  public func pastingBack(_ crop: Image, mask: Mask, transform: AffineTransform) -> Image {
    precondition(mask.width == crop.width && mask.height == crop.height, "mask and crop sizes differ")
    guard let inverse = transform.inverted else { return self }
    let corners = [(0.0, 0.0), (Double(crop.width), 0.0), (Double(crop.width), Double(crop.height)), (0.0, Double(crop.height))]
      .map { inverse.apply(x: $0.0, y: $0.1) }
    let x1 = min(max(Int(corners.map(\.x).min()!.rounded(.down)), 0), width)
    let y1 = min(max(Int(corners.map(\.y).min()!.rounded(.down)), 0), height)
    let x2 = min(max(Int(corners.map(\.x).max()!.rounded(.up)), 0), width)
    let y2 = min(max(Int(corners.map(\.y).max()!.rounded(.up)), 0), height)
    guard x2 > x1, y2 > y1 else { return self }
    // Crop space -> paste-box space.
    let toBox = AffineTransform(a: inverse.a, b: inverse.b, tx: inverse.tx - Double(x1),
                                c: inverse.c, d: inverse.d, ty: inverse.ty - Double(y1))
    let boxWidth = x2 - x1, boxHeight = y2 - y1
    let face = crop.converted(toChannels: channels).warpedAffine(toBox, width: boxWidth, height: boxHeight, border: .replicate)
    let weights = mask.warpedAffine(toBox, width: boxWidth, height: boxHeight)
    var result = self
    let c = channels
    result.pixels.withUnsafeMutableBufferPointer { frame in
      face.pixels.withUnsafeBufferPointer { facePixels in
        weights.values.withUnsafeBufferPointer { alpha in
          for y in 0..<boxHeight {
            let frameRow = ((y1 + y) * width + x1) * c
            for x in 0..<boxWidth {
              let m = min(max(alpha[y * boxWidth + x], 0), 1)
              guard m > 0 else { continue }
              let f = frameRow + x * c, s = (y * boxWidth + x) * c
              for k in 0..<min(c, 3) {
                let blended = Float(frame[f + k]) * (1 - m) + Float(facePixels[s + k]) * m
                frame[f + k] = UInt8(blended + 0.5)
              }
            }
          }
        }
      }
    }
    return result
  }
}
