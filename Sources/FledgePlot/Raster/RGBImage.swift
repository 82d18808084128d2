/// An 8-bit RGB image, rows top to bottom, that shapes are blended into.
public struct RGBImage: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height` rows of `width` pixels of red, green, blue.
    public private(set) var pixels: [UInt8]

    public init(width: Int, height: Int, background: RGBColor = .white) {
        precondition(width > 0 && height > 0, "an image needs a positive size, got \(width)×\(height)")
        self.width = width
        self.height = height
        pixels = Array(repeating: 0, count: width * height * 3)
        for index in 0..<(width * height) {
            pixels[3 * index] = background.red
            pixels[3 * index + 1] = background.green
            pixels[3 * index + 2] = background.blue
        }
    }

    /// The color at (`x`, `y`).
    public func pixel(_ x: Int, _ y: Int) -> RGBColor {
        let offset = 3 * (y * width + x)
        return RGBColor(red: pixels[offset], green: pixels[offset + 1], blue: pixels[offset + 2])
    }

    /// Blends `paint` over the pixel at (`x`, `y`) with `coverage` in [0, 1] (the share of the
    /// pixel the shape covers); pixels outside the image are ignored.
    public mutating func blend(_ x: Int, _ y: Int, _ paint: Paint, coverage: Double) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let alpha = Swift.min(1, Swift.max(0, coverage * paint.opacity))
        guard alpha > 0 else { return }
        let offset = 3 * (y * width + x)
        pixels[offset] = Self.mix(pixels[offset], paint.color.red, alpha)
        pixels[offset + 1] = Self.mix(pixels[offset + 1], paint.color.green, alpha)
        pixels[offset + 2] = Self.mix(pixels[offset + 2], paint.color.blue, alpha)
    }

    private static func mix(_ old: UInt8, _ new: UInt8, _ alpha: Double) -> UInt8 {
        alpha == 1 ? new : UInt8((Double(old) + (Double(new) - Double(old)) * alpha).rounded())
    }
}
