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
        try replace(output.svg, with: Data(SVGRenderer.render(scene).utf8))
        try replace(output.png, with: PNGEncoder.encode(Rasterizer(pixelsPerUnit: pixelsPerUnit).render(scene)))
        return output
    }

    /// Writes `data` to a sibling of `url` and renames it into place, so a reader never sees half
    /// a chart. (Foundation's `.atomic` option does this too, but on Linux it leaves an empty
    /// `TemporaryDirectory.*` folder in the temporary directory on every write; FledgePlot has no
    /// dependencies, so it cannot use FledgeTensor's `AtomicFile`.)
    private static func replace(_ url: URL, with data: Data) throws {
        let partial = url.appendingPathExtension("partial")
        try data.write(to: partial)
        guard rename(partial.path, url.path) == 0 else {
            try? FileManager.default.removeItem(at: partial)
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: url.path])
        }
    }
}
