/// One metric's line on a panel.
public struct ChartSeries: Sendable, Equatable {
    public var metric: String
    /// The legend label (the variant word when a panel holds several metrics).
    public var label: String
    public var points: [PlotPoint]
    /// The trend of noisy values; when present, `points` are drawn faintly beneath it.
    public var smoothed: [PlotPoint]?

    public init(metric: String, label: String, points: [PlotPoint]) {
        self.metric = metric
        self.label = label
        self.points = points
        let values = points.map(\.y)
        smoothed = Smoothing.isNoisy(values) ? zip(points, Smoothing.smoothed(values)).map { PlotPoint($0.x, $1) } : nil
    }
}

/// One metric (or a group of variants of one metric) against the step, with its axes.
public struct ChartPanel: Sendable, Equatable {
    public var title: String
    public var series: [ChartSeries]
    public var xScale: NiceScale
    public var yScale: NiceScale
}

/// The panels of a run's metrics, the most important first.
public struct Chart: Sendable, Equatable {
    public var title: String
    public var panels: [ChartPanel]
    /// The number of records drawn.
    public var recordCount: Int
    /// The first and last step logged.
    public var steps: ClosedRange<Double>

    /// Names that are the x axis or bookkeeping rather than metrics; plotted only when asked for.
    public static let axisNames: Set<String> = ["step", "epoch"]

    /// The chart of `records`: x is each record's `step` (its 1-based position when it has
    /// none); `metrics` picks and orders the metrics, by default every numeric one by importance.
    public init(records: [MetricRecord], title: String, metrics: [String]? = nil) throws {
        let available = Self.metricNames(records)
        let chosen: [String]
        if let metrics {
            let unknown = metrics.filter { !available.contains($0) }
            guard unknown.isEmpty else { throw ChartError.unknownMetrics(unknown, available: available) }
            chosen = metrics.enumerated().filter { metrics.firstIndex(of: $0.element) == $0.offset }.map(\.element)
        } else {
            chosen = MetricOrder.sorted(available.filter { !Self.axisNames.contains($0) })
        }
        guard !chosen.isEmpty else { throw ChartError.noNumericMetrics }

        let steps = records.enumerated().map { $0.element["step"] ?? Double($0.offset + 1) }
        let xScale = NiceScale(covering: steps.min()!, steps.max()!, targetTicks: 6, integral: true)
        self.title = title
        recordCount = records.count
        self.steps = steps.min()!...steps.max()!
        panels = MetricGroup.groups(chosen).map { group in
            let series = group.members.map { member in
                ChartSeries(metric: member.metric, label: member.label, points: zip(steps, records).compactMap { step, record in
                    record[member.metric].map { PlotPoint(step, $0) }
                })
            }
            let values = series.flatMap { $0.points.map(\.y) }
            return ChartPanel(title: group.title, series: series, xScale: xScale,
                              yScale: NiceScale(covering: values.min()!, values.max()!, padding: 0.06))
        }
    }

    /// Every numeric field name in `records`, sorted.
    public static func metricNames(_ records: [MetricRecord]) -> [String] {
        Set(records.flatMap(\.values.keys)).sorted()
    }
}

/// Why a chart cannot be drawn.
public enum ChartError: Error, CustomStringConvertible, Equatable {
    case noNumericMetrics
    case unknownMetrics([String], available: [String])

    public var description: String {
        switch self {
        case .noNumericMetrics:
            "no numeric metrics to plot (besides \(Chart.axisNames.sorted().joined(separator: " and "))); the run has not logged a step yet, or its lines hold no numbers"
        case .unknownMetrics(let unknown, let available):
            "no metric named \(unknown.joined(separator: ", ")) in the log; available: \(available.joined(separator: ", "))"
        }
    }
}
