/// Lays a `Chart` out as a `Scene`: a title, then a grid of panels (three to a row, fewer for
/// small charts), each with its title, latest values, gridlines, tick labels and lines.
public struct ChartLayout {
    public var panelWidth = 330.0
    public var panelHeight = 210.0
    public var gap = 14.0
    public var margin = 18.0
    public var headerHeight = 52.0

    public init() {}

    /// The scene of `chart`.
    public func scene(_ chart: Chart) -> Scene {
        let count = chart.panels.count
        let columns = count <= 1 ? 1 : count <= 4 ? 2 : 3
        let rows = (count + columns - 1) / columns
        var scene = Scene(width: 2 * margin + Double(columns) * panelWidth + Double(columns - 1) * gap,
                          height: headerHeight + margin + Double(rows) * panelHeight + Double(rows - 1) * gap,
                          background: Style.figureBackground)
        drawHeader(chart, into: &scene)
        for (index, panel) in chart.panels.enumerated() {
            let origin = PlotPoint(margin + Double(index % columns) * (panelWidth + gap),
                                    headerHeight + Double(index / columns) * (panelHeight + gap))
            PanelLayout(panel: panel, origin: origin, width: panelWidth, height: panelHeight).draw(into: &scene)
        }
        return scene
    }

    private func drawHeader(_ chart: Chart, into scene: inout Scene) {
        scene.shapes.append(.text(SceneText(chart.title, at: PlotPoint(margin, 28), size: 16, bold: true, paint: Paint(Style.ink))))
        let steps = chart.steps.lowerBound == chart.steps.upperBound
            ? "step \(NumberLabel.format(chart.steps.lowerBound))"
            : "steps \(NumberLabel.format(chart.steps.lowerBound))-\(NumberLabel.format(chart.steps.upperBound))"
        var subtitle = "\(chart.recordCount) logged step\(chart.recordCount == 1 ? "" : "s"), \(steps)"
        if chart.panels.contains(where: { $0.series.contains { $0.smoothed != nil } }) {
            subtitle += "  ·  faint: raw values, bold: smoothed (EMA)"
        }
        scene.shapes.append(.text(SceneText(subtitle, at: PlotPoint(margin, 43), size: 10, paint: Paint(Style.mutedInk))))
    }
}

/// Colors and sizes shared by the chart's parts.
enum Style {
    static let figureBackground = RGBColor(hex: 0xf1f3f6)
    static let panelBackground = RGBColor.white
    static let panelBorder = RGBColor(hex: 0xdde1e7)
    static let grid = RGBColor(hex: 0xe8ebef)
    static let axis = RGBColor(hex: 0xa7afba)
    static let ink = RGBColor(hex: 0x1f2933)
    static let mutedInk = RGBColor(hex: 0x66707c)
    static let palette: [RGBColor] = [0x2563eb, 0xea580c, 0x16a34a, 0x9333ea, 0xdc2626, 0x0891b2, 0xdb2777, 0xa16207].map(RGBColor.init(hex:))
    /// Colors that carry meaning wherever a variant appears.
    static let variantColors: [String: RGBColor] = ["chosen": RGBColor(hex: 0x16a34a), "rejected": RGBColor(hex: 0xdc2626)]
    static let titleSize = 12.0
    static let labelSize = 10.0
    /// Series with at most this many points also get a dot per point.
    static let markedPointLimit = 30
}
