import CYaml

/// Limits on the shape of a config file, checked before it is composed into a tree.
///
/// A few lines of YAML can describe a tree too large or too deep to build: nine anchors that
/// each repeat the previous one nine times (an "alias bomb", "billion laughs") expand to 9⁹
/// values, and 100,000 nested `[` overflow the stack of any recursive reader — Yams' composer
/// included. This pass reads libyaml's event stream once, in a loop, keeping for each anchor
/// the size and height of the value it names, so that both limits are enforced on the tree as
/// it would be expanded, in time linear in the text, before anything is built. Syntax errors are
/// left to the composer, which reports them with their context.
struct YAMLLimits {
    /// The deepest nesting of lists and mappings (a config needs three or four levels).
    var maximumDepth = 64
    /// The most values (scalars, lists and mappings, each alias counted as the values it
    /// repeats) in one document set (a config has a few hundred).
    var maximumValues = 100_000

    /// The size of a value and its height (0 for a scalar, 1 for a list of scalars, …).
    private struct Extent {
        var values: Int
        var height: Int
    }

    /// A list or mapping being read: its anchor, and its values and height so far.
    private struct OpenCollection {
        var anchor: String?
        var extent = Extent(values: 1, height: 1)
    }

    /// Throws naming `source`, the line and the limit when `text` exceeds a limit.
    func check(_ text: String, source: String) throws(ConfigFileError) {
        var text = text
        try text.withUTF8 { bytes in Result { () throws(ConfigFileError) in try check(bytes, source: source) } }.get()
    }

    private func check(_ bytes: UnsafeBufferPointer<UInt8>, source: String) throws(ConfigFileError) {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { return }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)

        var anchors: [String: Extent] = [:]
        var open: [OpenCollection] = []
        var values = 0
        var event = yaml_event_t()
        while yaml_parser_parse(&parser, &event) == 1 {
            defer { yaml_event_delete(&event) }
            let line = event.start_mark.line + 1
            func tooLarge() -> ConfigFileError {
                ConfigFileError(source: source, message: "line \(line): the document expands to more than \(maximumValues) "
                    + "values (aliases count as the values they repeat); a config needs far fewer — is an alias repeated "
                    + "inside the anchor it names?")
            }
            func tooDeep() -> ConfigFileError {
                ConfigFileError(source: source, message: "line \(line): lists and mappings nest more than \(maximumDepth) "
                    + "levels deep (aliases count as the values they repeat); a config needs a few")
            }
            /// Records a complete value: counts it, adds it to the collection that holds it, names it.
            func close(_ extent: Extent, anchor: String?) throws(ConfigFileError) {
                guard open.count + extent.height <= maximumDepth else { throw tooDeep() }
                if let anchor { anchors[anchor] = extent }
                guard !open.isEmpty else { return }
                open[open.count - 1].extent.values += extent.values
                open[open.count - 1].extent.height = max(open[open.count - 1].extent.height, extent.height + 1)
            }
            switch event.type {
            case YAML_SCALAR_EVENT:
                values += 1
                guard values <= maximumValues else { throw tooLarge() }
                try close(Extent(values: 1, height: 0), anchor: Self.string(event.data.scalar.anchor))
            case YAML_ALIAS_EVENT:
                // An undefined alias is the composer's error to report.
                guard let name = Self.string(event.data.alias.anchor), let extent = anchors[name] else { return }
                values += extent.values
                guard values <= maximumValues else { throw tooLarge() }
                try close(extent, anchor: nil)
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                values += 1
                guard values <= maximumValues else { throw tooLarge() }
                guard open.count < maximumDepth else { throw tooDeep() }
                let anchor = event.type == YAML_SEQUENCE_START_EVENT
                    ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                open.append(OpenCollection(anchor: Self.string(anchor)))
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                guard let collection = open.popLast() else { return }
                try close(collection.extent, anchor: collection.anchor)
            case YAML_STREAM_END_EVENT:
                return
            default:
                break
            }
        }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}
