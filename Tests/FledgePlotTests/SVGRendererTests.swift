import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import FledgePlot

final class SVGRendererTests: XCTestCase {
    /// Counts elements by name and collects text while parsing.
    private final class Collector: NSObject, XMLParserDelegate {
        var counts: [String: Int] = [:]
        var texts: [String] = []
        private var current = ""

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                    attributes: [String: String] = [:]) {
            counts[name, default: 0] += 1
            current = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

        func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
            if name == "text" { texts.append(current) }
        }
    }

    func testChartSVGIsWellFormedXML() throws {
        let log = (1...40).map { step -> MetricRecord in
            let value = Double(step)
            let loss: Double = 2 / value + (step % 3 == 0 ? 0.2 : -0.1)
            return MetricRecord(["step": value, "loss": loss, "rewards/chosen": value / 10, "rewards/rejected": -value / 20])
        }
        let scene = ChartLayout().scene(try Chart(records: log, title: "runs/<dpo> & \"friends\"'"))
        let svg = SVGRenderer.render(scene)
        let collector = Collector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        XCTAssertTrue(parser.parse(), "XML error: \(String(describing: parser.parserError))")
        XCTAssertEqual(collector.counts["svg"], 1)
        XCTAssertEqual(collector.counts["polyline"], 4, "loss: raw and smoothed; rewards: chosen and rejected")
        XCTAssertTrue(collector.texts.contains("runs/<dpo> & \"friends\"'"), "the title survives escaping")
        XCTAssertTrue(collector.texts.contains("rewards"))
        XCTAssertTrue(collector.texts.contains("loss"))
    }

    func testPlotWritesBothFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("fledge-plot-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = (1...5).map { MetricRecord(["step": Double($0), "reward": Double($0 * $0)]) }
        let output = try MetricsPlot.write(records: log, title: "demo", to: directory.appendingPathComponent("metrics"))
        XCTAssertEqual(output.svg.lastPathComponent, "metrics.svg")
        let png = try DecodedPNG(Array(try Data(contentsOf: output.png)))
        XCTAssertEqual(png.width, Int(ChartLayout().scene(try Chart(records: log, title: "demo")).width * MetricsPlot.pixelsPerUnit))
        XCTAssertTrue(png.pixels.contains(0x25), "the series color appears")  // 0x2563eb
        XCTAssertTrue(try String(contentsOf: output.svg, encoding: .utf8).hasPrefix("<?xml"))
    }
}
