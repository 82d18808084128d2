import Foundation

/// Writes a `Scene` as a standalone SVG document.
public enum SVGRenderer {
    /// The SVG text of `scene`.
    public static func render(_ scene: Scene) -> String {
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<svg xmlns="http://www.w3.org/2000/svg" width="\#(number(scene.width))" height="\#(number(scene.height))" "#
                + #"viewBox="0 0 \#(number(scene.width)) \#(number(scene.height))" "#
                + #"font-family="Helvetica, Arial, sans-serif">"#,
            #"<rect width="100%" height="100%" fill="\#(scene.background.hexString)"/>"#,
        ]
        lines += scene.shapes.map(element)
        lines.append("</svg>")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func element(_ shape: Shape) -> String {
        switch shape {
        case .rectangle(let origin, let width, let height, let fill):
            return #"<rect x="\#(number(origin.x))" y="\#(number(origin.y))" width="\#(number(width))" height="\#(number(height))"\#(fillAttributes(fill))/>"#
        case .polyline(let points, let width, let stroke):
            let coordinates = points.map { "\(number($0.x)),\(number($0.y))" }.joined(separator: " ")
            var attributes = #" fill="none" stroke="\#(stroke.color.hexString)" stroke-width="\#(number(width))""#
            attributes += #" stroke-linejoin="round" stroke-linecap="round""#
            if stroke.opacity < 1 { attributes += #" stroke-opacity="\#(number(stroke.opacity))""# }
            return #"<polyline points="\#(coordinates)"\#(attributes)/>"#
        case .circle(let center, let radius, let fill):
            return #"<circle cx="\#(number(center.x))" cy="\#(number(center.y))" r="\#(number(radius))"\#(fillAttributes(fill))/>"#
        case .text(let text):
            var attributes = #" x="\#(number(text.position.x))" y="\#(number(text.position.y))" font-size="\#(number(text.size))""#
            switch text.anchor {
            case .start: break
            case .middle: attributes += #" text-anchor="middle""#
            case .end: attributes += #" text-anchor="end""#
            }
            if text.bold { attributes += #" font-weight="bold""# }
            return "<text\(attributes)\(fillAttributes(text.paint))>\(MarkupText.escaped(text.string))</text>"
        }
    }

    private static func fillAttributes(_ paint: Paint) -> String {
        #" fill="\#(paint.color.hexString)""# + (paint.opacity < 1 ? #" fill-opacity="\#(number(paint.opacity))""# : "")
    }

    /// A coordinate with at most two decimals and no trailing zeros.
    private static func number(_ value: Double) -> String {
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.2f", rounded).replacingOccurrences(of: #"0$"#, with: "", options: .regularExpression)
    }
}
