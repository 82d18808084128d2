import Foundation

/// Drawing a run's metrics as `NAME.svg` and `NAME.png` side by side: the entry point for
/// `fledge plot` and for anything else that wants a picture of a training curve.
public enum MetricsPlot {
    /// The files written.
    public struct Output: Sendable, Equatable {
        public let svg: URL
        public let png: URL
    }

    /// Image pixels per SVG unit in the PNG (2 gives a sharp picture on high-density screens).
    public static let pixelsPerUnit = 2.0

    /// Draws `records` under `title` to `base` + `.svg` and `base` + `.png`; `metrics` picks
    /// and orders the metrics (by default all, the most important first).
    @discardableResult
    public static func write(records: [MetricRecord], title: String, metrics: [String]? = nil, to base: URL) throws -> Output {
        let scene = ChartLayout().scene(try Chart(records: records, title: title, metrics: metrics))
        let output = Output(svg: base.appendingPathExtension("svg"), png: base.appendingPathExtension("png"))
        try Data(SVGRenderer.render(scene).utf8).write(to: output.svg, options: .atomic)
        try PNGEncoder.encode(Rasterizer(pixelsPerUnit: pixelsPerUnit).render(scene)).write(to: output.png, options: .atomic)
        return output
    }
}
