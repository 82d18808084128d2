/// One panel of a chart placed at `origin`: the geometry from data to scene units and the shapes.
struct PanelLayout {
    let panel: ChartPanel
    let origin: PlotPoint
    let width: Double
    let height: Double

    private var plotLeft: Double {
        let labelWidth = panel.yScale.ticks.map { BitmapFont.width(panel.yScale.label($0), size: Style.labelSize) }.max() ?? 0
        return origin.x + 14 + labelWidth + 6
    }
    private var plotRight: Double { origin.x + width - 16 }
    private var plotTop: Double { origin.y + (panel.series.count > 1 ? 50 : 36) }
    private var plotBottom: Double { origin.y + height - 26 }

    func draw(into scene: inout Scene) {
        scene.shapes.append(.rectangle(origin: PlotPoint(origin.x - 1, origin.y - 1), width: width + 2, height: height + 2,
                                       fill: Paint(Style.panelBorder)))
        scene.shapes.append(.rectangle(origin: origin, width: width, height: height, fill: Paint(Style.panelBackground)))
        drawTitle(into: &scene)
        drawAxes(into: &scene)
        for (index, series) in panel.series.enumerated() { drawSeries(series, color: color(index), into: &scene) }
    }

    private func color(_ index: Int) -> RGBColor {
        Style.variantColors[panel.series[index].label] ?? Style.palette[index % Style.palette.count]
    }

    private func x(_ value: Double) -> Double {
        plotLeft + panel.xScale.fraction(value) * (plotRight - plotLeft)
    }

    private func y(_ value: Double) -> Double {
        plotBottom - panel.yScale.fraction(value) * (plotBottom - plotTop)
    }

    /// The title on the left; the latest value on the right, or a legend row of the variants
    /// with their latest values.
    private func drawTitle(into scene: inout Scene) {
        let baseline = origin.y + 20
        scene.shapes.append(.text(SceneText(panel.title, at: PlotPoint(origin.x + 14, baseline), size: Style.titleSize,
                                            bold: true, paint: Paint(Style.ink))))
        if panel.series.count == 1, let last = panel.series[0].points.last {
            scene.shapes.append(.text(SceneText("last \(NumberLabel.format(last.y))", at: PlotPoint(origin.x + width - 14, baseline),
                                                size: Style.labelSize, anchor: .end, paint: Paint(Style.mutedInk))))
            return
        }
        var x = origin.x + 14
        let legendBaseline = baseline + 17
        for (index, series) in panel.series.enumerated() {
            let text = series.points.last.map { "\(series.label) \(NumberLabel.format($0.y))" } ?? series.label
            scene.shapes.append(.rectangle(origin: PlotPoint(x, legendBaseline - 5), width: 12, height: 2.5, fill: Paint(color(index))))
            scene.shapes.append(.text(SceneText(text, at: PlotPoint(x + 16, legendBaseline), size: Style.labelSize,
                                                paint: Paint(Style.mutedInk))))
            x += 16 + BitmapFont.width(text, size: Style.labelSize) + 14
        }
    }

    /// Gridlines and labels at the ticks, and the x axis line.
    private func drawAxes(into scene: inout Scene) {
        for tick in panel.yScale.ticks {
            let position = y(tick).rounded()
            scene.shapes.append(.rectangle(origin: PlotPoint(plotLeft, position - 0.5), width: plotRight - plotLeft, height: 1,
                                           fill: Paint(tick == 0 && panel.yScale.lower < 0 ? Style.axis : Style.grid)))
            scene.shapes.append(.text(SceneText(panel.yScale.label(tick), at: PlotPoint(plotLeft - 6, position + 3.5),
                                                size: Style.labelSize, anchor: .end, paint: Paint(Style.mutedInk))))
        }
        for tick in panel.xScale.ticks {
            let position = x(tick).rounded()
            scene.shapes.append(.rectangle(origin: PlotPoint(position - 0.5, plotTop), width: 1, height: plotBottom - plotTop,
                                           fill: Paint(Style.grid, opacity: 0.6)))
            scene.shapes.append(.text(SceneText(panel.xScale.label(tick), at: PlotPoint(position, plotBottom + 15),
                                                size: Style.labelSize, anchor: .middle, paint: Paint(Style.mutedInk))))
        }
        scene.shapes.append(.rectangle(origin: PlotPoint(plotLeft, plotBottom.rounded() - 0.5), width: plotRight - plotLeft, height: 1,
                                       fill: Paint(Style.axis)))
    }

    /// The values as a line: faint under a smoothed trend when noisy; with dots when sparse.
    private func drawSeries(_ series: ChartSeries, color: RGBColor, into scene: inout Scene) {
        let raw = series.points.map { PlotPoint(x($0.x), y($0.y)) }
        if let smoothed = series.smoothed {
            scene.shapes.append(.polyline(raw, width: 1, stroke: Paint(color, opacity: 0.3)))
            scene.shapes.append(.polyline(smoothed.map { PlotPoint(x($0.x), y($0.y)) }, width: 2, stroke: Paint(color)))
        } else {
            scene.shapes.append(.polyline(raw, width: 1.75, stroke: Paint(color)))
        }
        if raw.count <= Style.markedPointLimit {
            let dot = series.smoothed == nil ? Paint(color) : Paint(color, opacity: 0.45)
            for point in raw { scene.shapes.append(.circle(center: point, radius: 2.5, fill: dot)) }
        }
    }
}
