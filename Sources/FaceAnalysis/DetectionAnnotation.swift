import Imaging

/// Draws detections for a person to look at: box outlines and keypoint dots.
public enum DetectionAnnotation {
  static let colours: [(UInt8, UInt8, UInt8)] = [(0, 255, 0), (255, 64, 64), (64, 160, 255), (255, 200, 0), (255, 0, 255)]

  public static func draw(_ faces: [DetectedFace], shapes: [[Point2]] = [], on image: Image) -> Image {
    var pixels = image.pixels
    let width = image.width, height = image.height
    let thickness = max(1, min(width, height) / 300)
    func plot(_ x: Int, _ y: Int, _ colour: (UInt8, UInt8, UInt8)) {
      guard x >= 0, y >= 0, x < width, y < height else { return }
      let offset = (y * width + x) * 3
      pixels[offset] = colour.0
      pixels[offset + 1] = colour.1
      pixels[offset + 2] = colour.2
    }
    for face in faces {
      let x1 = Int(face.box.x1), y1 = Int(face.box.y1), x2 = Int(face.box.x2), y2 = Int(face.box.y2)
      for t in 0..<thickness {
        for x in x1...max(x1, x2) {
          plot(x, y1 + t, colours[0])
          plot(x, y2 - t, colours[0])
        }
        for y in y1...max(y1, y2) {
          plot(x1 + t, y, colours[0])
          plot(x2 - t, y, colours[0])
        }
      }
      let radius = max(2, Int(face.box.width / 30))
      for (index, point) in face.landmarks.enumerated() {
        let colour = colours[index % colours.count]
        for dy in -radius...radius {
          for dx in -radius...radius where dx * dx + dy * dy <= radius * radius {
            plot(Int(point.x) + dx, Int(point.y) + dy, colour)
          }
        }
      }
    }
    for shape in shapes {
      for point in shape {
        for dy in -1...1 { for dx in -1...1 { plot(Int(point.x) + dx, Int(point.y) + dy, (255, 255, 255)) } }
      }
    }
    return try! Image(width: width, height: height, channels: 3, pixels: pixels)
  }
}
