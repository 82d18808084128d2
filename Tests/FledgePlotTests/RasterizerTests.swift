import XCTest
@testable import FledgePlot

final class RasterizerTests: XCTestCase {
    private let black = Paint(RGBColor(hex: 0x000000))

    func testRectangleEdgesGetTheirShareOfArea() {
        let scene = Scene(width: 10, height: 6, shapes: [
            .rectangle(origin: PlotPoint(2, 1.5), width: 3.25, height: 2, fill: black),
        ])
        let image = Rasterizer(pixelsPerUnit: 1).render(scene)
        XCTAssertEqual(image.pixel(1, 2).red, 255, "outside")
        XCTAssertEqual(image.pixel(3, 2).red, 0, "fully inside")
        XCTAssertEqual(image.pixel(3, 1).red, 128, "top edge row covers half of each pixel")
        XCTAssertEqual(image.pixel(5, 2).red, 191, "right edge column covers a quarter")  // 255 · (1 − 0.25)
        XCTAssertEqual(image.pixel(5, 1).red, 223, "corner covers an eighth")  // 255 · (1 − 0.125)
    }

    func testLinesAreAntiAliasedAndTranslucentLinesDoNotDarkenAtJoins() {
        let diagonal = Scene(width: 40, height: 40, shapes: [
            .polyline([PlotPoint(2, 3), PlotPoint(37, 30)], width: 1.5, stroke: black),
        ])
        let image = Rasterizer(pixelsPerUnit: 1).render(diagonal)
        let values = Set((0..<40).flatMap { y in (0..<40).map { image.pixel($0, y).red } })
        XCTAssertTrue(values.contains(0), "the core of the line is solid")
        XCTAssertGreaterThan(values.filter { $0 > 0 && $0 < 255 }.count, 20, "edges have intermediate shades")

        let zigzag = Scene(width: 40, height: 20, shapes: [
            .polyline([PlotPoint(2, 10), PlotPoint(20, 10), PlotPoint(20, 10), PlotPoint(38, 10)], width: 4,
                      stroke: Paint(RGBColor(hex: 0x000000), opacity: 0.5)),
        ])
        let joined = Rasterizer(pixelsPerUnit: 1).render(zigzag)
        XCTAssertEqual(joined.pixel(20, 10), joined.pixel(10, 10), "the join is blended once, like the rest of the line")
        XCTAssertEqual(joined.pixel(10, 10).red, 128)
    }

    func testTextLightsPixelsInsideItsBox() {
        let text = SceneText("Ag0.5", at: PlotPoint(50, 20), size: 10, anchor: .middle, paint: black)
        let image = Rasterizer(pixelsPerUnit: 2).render(Scene(width: 100, height: 30, shapes: [.text(text)]))
        let unit = 2  // size 10 at 2 pixels per unit draws each font cell as 2×2 pixels
        let width = BitmapFont.width("Ag0.5") * unit
        var inside = 0
        for y in 0..<image.height {
            for x in 0..<image.width where image.pixel(x, y).red < 255 {
                XCTAssertTrue((100 - width / 2..<100 + width / 2 + 1).contains(x), "x \(x) outside the text's width")
                XCTAssertTrue((40 - 7 * unit..<40 + 2 * unit).contains(y), "y \(y) outside ascent and descent")
                inside += 1
            }
        }
        XCTAssertGreaterThan(inside, 100)
        XCTAssertLessThan(image.pixel(100 - width / 2 + 1, 40 - 1).red, 255, "the A's foot on the baseline is drawn")
    }

    func testFontHasEveryPrintableASCIICharacter() {
        let question = BitmapFont.glyph("?").cells.map { "\($0.column),\($0.row)" }
        for scalar in 33...126 {
            let character = Character(UnicodeScalar(scalar)!)
            let glyph = BitmapFont.glyph(character)
            XCTAssertFalse(glyph.cells.isEmpty, "\(character)")
            if character != "?" {
                XCTAssertNotEqual(glyph.cells.map { "\($0.column),\($0.row)" }, question, "\(character) falls back to ?")
            }
            XCTAssertTrue(glyph.cells.allSatisfy { $0.row < BitmapFont.ascent + 2 && $0.column < glyph.width }, "\(character)")
        }
    }
}
