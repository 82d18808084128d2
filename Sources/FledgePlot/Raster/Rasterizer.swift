import Foundation

/// Draws a `Scene` into an `RGBImage` with anti-aliasing: each shape's coverage of every pixel
/// is computed (area for rectangles, distance to the edge for strokes and circles), and a shape
/// is blended once, so overlapping segments of one translucent line do not darken.
public struct Rasterizer {
    /// Image pixels per scene unit.
    public let pixelsPerUnit: Double

    public init(pixelsPerUnit: Double = 2) {
        precondition(pixelsPerUnit > 0, "pixelsPerUnit must be positive, got \(pixelsPerUnit)")
        self.pixelsPerUnit = pixelsPerUnit
    }

    /// The scene as an image of `width × pixelsPerUnit` by `height × pixelsPerUnit` pixels.
    public func render(_ scene: Scene) -> RGBImage {
        var image = RGBImage(width: Int((scene.width * pixelsPerUnit).rounded(.up)),
                             height: Int((scene.height * pixelsPerUnit).rounded(.up)), background: scene.background)
        for shape in scene.shapes {
            switch shape {
            case .rectangle(let origin, let width, let height, let fill):
                fillRectangle(&image, x: origin.x * pixelsPerUnit, y: origin.y * pixelsPerUnit,
                              width: width * pixelsPerUnit, height: height * pixelsPerUnit, fill)
            case .polyline(let points, let width, let stroke):
                strokePolyline(&image, points.map { ($0.x * pixelsPerUnit, $0.y * pixelsPerUnit) },
                               halfWidth: width * pixelsPerUnit / 2, stroke)
            case .circle(let center, let radius, let fill):
                fillCircle(&image, center: (center.x * pixelsPerUnit, center.y * pixelsPerUnit),
                           radius: radius * pixelsPerUnit, fill)
            case .text(let text):
                draw(&image, text)
            }
        }
        return image
    }

    /// Fills the rectangle in pixel coordinates; edge pixels get the share of their area inside.
    func fillRectangle(_ image: inout RGBImage, x: Double, y: Double, width: Double, height: Double, _ paint: Paint) {
        let (left, right, top, bottom) = (x, x + width, y, y + height)
        let columns = Swift.max(0, Int(left.rounded(.down)))..<Swift.min(image.width, Int(right.rounded(.up)))
        let rows = Swift.max(0, Int(top.rounded(.down)))..<Swift.min(image.height, Int(bottom.rounded(.up)))
        guard !columns.isEmpty, !rows.isEmpty else { return }
        for row in rows {
            let coverY = Swift.min(bottom, Double(row + 1)) - Swift.max(top, Double(row))
            for column in columns {
                let coverX = Swift.min(right, Double(column + 1)) - Swift.max(left, Double(column))
                image.blend(column, row, paint, coverage: coverX * coverY)
            }
        }
    }

    /// Strokes the polyline in pixel coordinates with round joins and caps.
    func strokePolyline(_ image: inout RGBImage, _ points: [(Double, Double)], halfWidth: Double, _ paint: Paint) {
        guard let first = points.first else { return }
        let segments = points.count == 1 ? [(first, first)] : Array(zip(points, points.dropFirst()))
        let reach = halfWidth + 1
        var mask = CoverageMask(bounds: points, margin: reach, image: image)
        for (start, end) in segments {
            let columns = Int((Swift.min(start.0, end.0) - reach).rounded(.down))...Int((Swift.max(start.0, end.0) + reach).rounded(.up))
            let rows = Int((Swift.min(start.1, end.1) - reach).rounded(.down))...Int((Swift.max(start.1, end.1) + reach).rounded(.up))
            for row in rows {
                for column in columns {
                    let distance = Self.distance(from: (Double(column) + 0.5, Double(row) + 0.5), to: start, end)
                    mask.cover(column, row, halfWidth + 0.5 - distance)
                }
            }
        }
        mask.blend(into: &image, paint)
    }

    /// Fills the disc in pixel coordinates.
    func fillCircle(_ image: inout RGBImage, center: (Double, Double), radius: Double, _ paint: Paint) {
        strokePolyline(&image, [center], halfWidth: radius, paint)
    }

    /// Writes the text with the bitmap font, one unit of the glyph grid as a whole number of
    /// pixels so that letters stay crisp; bold doubles each stroke one pixel to the right.
    func draw(_ image: inout RGBImage, _ text: SceneText) {
        let unit = Swift.max(1, Int((text.size * pixelsPerUnit / 10).rounded()))
        let boldExtra = text.bold ? 1 : 0
        let width = BitmapFont.width(text.string) * unit + boldExtra * text.string.count
        var x = Int((text.position.x * pixelsPerUnit).rounded())
        switch text.anchor {
        case .start: break
        case .middle: x -= width / 2
        case .end: x -= width
        }
        let top = Int((text.position.y * pixelsPerUnit).rounded()) - BitmapFont.ascent * unit
        for character in text.string {
            if character == " " {
                x += BitmapFont.spaceAdvance * unit
                continue
            }
            let glyph = BitmapFont.glyph(character)
            for cell in glyph.cells {
                fillRectangle(&image, x: Double(x + cell.column * unit), y: Double(top + cell.row * unit),
                              width: Double(unit + boldExtra), height: Double(unit), text.paint)
            }
            x += (glyph.width + BitmapFont.spacing) * unit + boldExtra
        }
    }

    /// The distance from `point` to the segment `start`–`end`.
    static func distance(from point: (Double, Double), to start: (Double, Double), _ end: (Double, Double)) -> Double {
        let (dx, dy) = (end.0 - start.0, end.1 - start.1)
        let lengthSquared = dx * dx + dy * dy
        let t = lengthSquared == 0 ? 0 : Swift.min(1, Swift.max(0, ((point.0 - start.0) * dx + (point.1 - start.1) * dy) / lengthSquared))
        return hypot(point.0 - (start.0 + t * dx), point.1 - (start.1 + t * dy))
    }
}

/// The largest coverage of each pixel in a box over all parts of one shape.
private struct CoverageMask {
    let left: Int, top: Int, width: Int, height: Int
    var coverage: [Double]

    init(bounds points: [(Double, Double)], margin: Double, image: RGBImage) {
        left = Swift.max(0, Int((points.map(\.0).min()! - margin).rounded(.down)))
        top = Swift.max(0, Int((points.map(\.1).min()! - margin).rounded(.down)))
        width = Swift.max(0, Swift.min(image.width, Int((points.map(\.0).max()! + margin).rounded(.up)) + 1) - left)
        height = Swift.max(0, Swift.min(image.height, Int((points.map(\.1).max()! + margin).rounded(.up)) + 1) - top)
        coverage = Array(repeating: 0, count: width * height)
    }

    mutating func cover(_ x: Int, _ y: Int, _ value: Double) {
        let (column, row) = (x - left, y - top)
        guard value > 0, column >= 0, row >= 0, column < width, row < height else { return }
        coverage[row * width + column] = Swift.max(coverage[row * width + column], Swift.min(1, value))
    }

    func blend(into image: inout RGBImage, _ paint: Paint) {
        for row in 0..<height {
            for column in 0..<width where coverage[row * width + column] > 0 {
                image.blend(left + column, top + row, paint, coverage: coverage[row * width + column])
            }
        }
    }
}
