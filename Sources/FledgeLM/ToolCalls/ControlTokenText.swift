/// Token ids turned into the text a response parser scans, as transformers' `TokenIdDecoder` does: a control token
/// generated as its id reads as its spelling, but a control token the model spelled out with ordinary tokens (`<`,
/// `tool_call`, `>`) is defused — a marker goes between its characters — so that it cannot act as a delimiter.
/// The markers are removed from every parsed value (`stripMarkers`).
///
/// Control tokens are the added tokens that are special or whose text the chat template contains (transformers
/// looks in the template's literal strings; the template's source is a superset that holds the same tokens in
/// practice).
struct ControlTokenText: Sendable {
    /// Inserted between the characters of a spelled-out control token: a Unicode noncharacter, which model output
    /// does not contain (transformers' `MARKER`).
    static let marker = Unicode.Scalar(0xFDD2)!

    private let tokenizer: Tokenizer
    /// The spelling of each control token id.
    private let controlSpellings: [Int: String]
    /// The control token spellings, longest first (a token takes priority over the tokens it contains).
    private let spellingsLongestFirst: [String]

    init(tokenizer: Tokenizer, chatTemplate source: String) {
        self.tokenizer = tokenizer
        let control = tokenizer.addedTokenList.filter {
            $0.special || (source.contains($0.content) && !$0.content.unicodeScalars.allSatisfy(PythonString.isSpace))
        }
        controlSpellings = Dictionary(control.map { ($0.id, $0.content) }, uniquingKeysWith: { first, _ in first })
        spellingsLongestFirst = Set(control.map(\.content)).sorted {
            $0.unicodeScalars.count != $1.unicodeScalars.count ? $0.unicodeScalars.count > $1.unicodeScalars.count : $0 < $1
        }
    }

    /// The text of `ids`: control token ids as their spellings, each run of other ids decoded together (special
    /// tokens kept) with control spellings in it defused.
    func text(of ids: [Int]) -> String {
        var text = ""
        var run: [Int] = []
        for id in ids {
            if let spelling = controlSpellings[id] {
                text += defused(tokenizer.decode(run))
                run.removeAll(keepingCapacity: true)
                text += spelling
            } else {
                run.append(id)
            }
        }
        return text + defused(tokenizer.decode(run))
    }

    /// `text` with a marker between the code points of each control token spelling in it (leftmost first, longest
    /// at a place).
    private func defused(_ text: String) -> String {
        guard !text.isEmpty, !spellingsLongestFirst.isEmpty else { return text }
        let scalars = Array(text.unicodeScalars)
        var result = String.UnicodeScalarView()
        var index = 0
        scan: while index < scalars.count {
            for spelling in spellingsLongestFirst {
                let pattern = Array(spelling.unicodeScalars)
                guard index + pattern.count <= scalars.count, scalars[index..<index + pattern.count].elementsEqual(pattern)
                else { continue }
                for (offset, scalar) in pattern.enumerated() {
                    if offset > 0 { result.append(Self.marker) }
                    result.append(scalar)
                }
                index += pattern.count
                continue scan
            }
            result.append(scalars[index])
            index += 1
        }
        return String(result)
    }

    /// `value` with every marker removed from its strings and keys.
    static func stripMarkers(_ value: JSONValue) -> JSONValue {
        switch value {
        case .string(let text): return .string(stripMarkers(text))
        case .array(let items): return .array(items.map(stripMarkers))
        case .object(let object):
            return .object(JSONObject(object.entries.map { (stripMarkers($0.key), stripMarkers($0.value)) }))
        default: return value
        }
    }

    static func stripMarkers(_ text: String) -> String {
        guard text.unicodeScalars.contains(marker) else { return text }
        var kept = String.UnicodeScalarView()
        kept.append(contentsOf: text.unicodeScalars.lazy.filter { $0 != marker })
        return String(kept)
    }
}
