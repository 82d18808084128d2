/// A color in sRGB, 8 bits per channel.
public struct RGBColor: Sendable, Equatable {
    public var red: UInt8
    public var green: UInt8
    public var blue: UInt8

    public init(red: UInt8, green: UInt8, blue: UInt8) {
        self.red = red
        self.green = green
        self.blue = blue
    }

    /// A color from a 24-bit hex value such as `0x1f77b4`.
    public init(hex: UInt32) {
        self.init(red: UInt8(hex >> 16 & 0xff), green: UInt8(hex >> 8 & 0xff), blue: UInt8(hex & 0xff))
    }

    /// `#rrggbb`, as SVG writes it.
    public var hexString: String {
        "#" + [red, green, blue].map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    public static let white = RGBColor(hex: 0xffffff)
}

/// A color with an opacity in [0, 1].
public struct Paint: Sendable, Equatable {
    public var color: RGBColor
    public var opacity: Double

    public init(_ color: RGBColor, opacity: Double = 1) {
        self.color = color
        self.opacity = opacity
    }
}

/// A point: in a chart, x is the training step and y the metric's value; in a scene, both are
/// scene units (SVG user units; the PNG scales them by its pixel density).
public struct PlotPoint: Sendable, Equatable {
    public var x: Double
    public var y: Double

    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// Where a text's anchor point lies along the text.
public enum TextAnchor: Sendable {
    case start, middle, end
}

/// One line of text whose `position` is on its baseline.
public struct SceneText: Sendable, Equatable {
    public var string: String
    public var position: PlotPoint
    /// The font size in scene units (an em).
    public var size: Double
    public var anchor: TextAnchor
    public var bold: Bool
    public var paint: Paint

    public init(_ string: String, at position: PlotPoint, size: Double, anchor: TextAnchor = .start,
                bold: Bool = false, paint: Paint) {
        self.string = string
        self.position = position
        self.size = size
        self.anchor = anchor
        self.bold = bold
        self.paint = paint
    }
}

/// The drawing primitives both renderers (SVG and PNG) understand.
public enum Shape: Sendable, Equatable {
    /// An axis-aligned filled rectangle from `origin` (top left) with `width` and `height`.
    case rectangle(origin: PlotPoint, width: Double, height: Double, fill: Paint)
    /// An open polyline stroked with round joins and caps.
    case polyline([PlotPoint], width: Double, stroke: Paint)
    case circle(center: PlotPoint, radius: Double, fill: Paint)
    case text(SceneText)
}

/// A picture: a size, a background and shapes drawn in order.
public struct Scene: Sendable, Equatable {
    public var width: Double
    public var height: Double
    public var background: RGBColor
    public var shapes: [Shape]

    public init(width: Double, height: Double, background: RGBColor = .white, shapes: [Shape] = []) {
        self.width = width
        self.height = height
        self.background = background
        self.shapes = shapes
    }
}
