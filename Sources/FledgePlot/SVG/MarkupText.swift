/// Text made safe for XML and HTML element content and attribute values: the five special characters
/// as entities (`&apos;` is an HTML5 entity too), shared by the SVG charts and `fledge report`'s page.
public enum MarkupText {
    /// `text` with `&`, `<`, `>`, `"` and `'` escaped.
    public static func escaped(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "'": result += "&apos;"
            default: result.append(character)
            }
        }
        return result
    }
}
