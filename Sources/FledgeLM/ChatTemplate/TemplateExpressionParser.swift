/// Expressions of the template language, parsed with Jinja's precedence (lowest first):
/// conditional, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary, then
/// primaries with attribute, item, slice and call postfixes, filters and tests.
///
/// Every expression is parsed with the height of its tree, and the parser counts the levels it
/// descends (blocks, brackets, prefix operators, `else` branches): together they stay within
/// ``TemplateLimit/nestingDepth``, so neither parsing nor rendering can recurse past it.
extension TemplateParser {
    /// An expression and the height of its tree (a leaf is 1): how deep rendering it recurses.
    struct Parsed {
        let node: TemplateExpression
        let height: Int
    }

    mutating func located(_ parse: (inout TemplateParser) throws(TemplateError) -> Parsed) throws(TemplateError) -> Located<TemplateExpression> {
        let position = current.position
        return Located(node: try parse(&self).node, position: position)
    }

    /// Parses what `opening` (a block tag, a bracket, a prefix operator, an `else` branch) nests one
    /// level deeper than the current one; past the nesting limit that is an error at `opening`.
    mutating func nested<T>(at opening: SourcePosition, _ parse: (inout TemplateParser) throws(TemplateError) -> T) throws(TemplateError) -> T {
        depth += 1
        defer { depth -= 1 }
        // One level more for the innermost expression's leaf.
        try TemplateLimit.nestingDepth.check(depth + 1, at: opening, nestingMessage)
        return try parse(&self)
    }

    /// `node`, whose tallest subexpression is `height - 1` levels high, parsed at the current level.
    private func parsed(_ node: TemplateExpression, height: Int, at position: SourcePosition) throws(TemplateError) -> Parsed {
        try TemplateLimit.nestingDepth.check(depth + height, at: position, nestingMessage)
        return Parsed(node: node, height: height)
    }

    private var nestingMessage: String {
        "the template nests more than \(TemplateLimit.nestingDepth.value) levels deep (blocks, brackets, operators, filters and "
            + "attribute accesses counted together); split the expression or block into smaller ones with {% set %} or a macro"
    }

    private func binary(_ op: String, _ left: Parsed, _ right: Parsed, at position: SourcePosition) throws(TemplateError) -> Parsed {
        try parsed(.binary(op, left.node, right.node, position), height: 1 + max(left.height, right.height), at: position)
    }

    private func unary(_ op: String, _ operand: Parsed, at position: SourcePosition) throws(TemplateError) -> Parsed {
        try parsed(.unary(op, operand.node, position), height: 1 + operand.height, at: position)
    }

    mutating func expression(allowConditional: Bool = true) throws(TemplateError) -> Parsed {
        let value = try or()
        guard allowConditional, case .name("if") = current.kind else { return value }
        let position = next().position
        let condition = try or()
        var otherwise: Parsed? = nil
        if case .name("else") = current.kind {
            let elsePosition = next().position
            otherwise = try nested(at: elsePosition) { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
        }
        return try parsed(.conditional(condition: condition.node, then: value.node, otherwise: otherwise?.node),
                          height: 1 + max(value.height, condition.height, otherwise?.height ?? 0), at: position)
    }

    private mutating func or() throws(TemplateError) -> Parsed {
        var left = try and()
        while case .name("or") = current.kind {
            let position = next().position
            left = try binary("or", left, try and(), at: position)
        }
        return left
    }

    private mutating func and() throws(TemplateError) -> Parsed {
        var left = try not()
        while case .name("and") = current.kind {
            let position = next().position
            left = try binary("and", left, try not(), at: position)
        }
        return left
    }

    private mutating func not() throws(TemplateError) -> Parsed {
        guard case .name("not") = current.kind else { return try comparison() }
        let position = next().position
        let operand = try nested(at: position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.not() }
        return try unary("not", operand, at: position)
    }

    /// Comparisons chain as in Python: `a < b < c` is `a < b and b < c`.
    private mutating func comparison() throws(TemplateError) -> Parsed {
        var operand = try additive()
        var chain: Parsed? = nil
        while true {
            let position = current.position
            let comparison: Parsed
            if case .symbol(let symbol) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                _ = next()
                let right = try additive()
                comparison = try binary(symbol, operand, right, at: position)
                operand = right
            } else if accept(.name("in")) {
                let right = try additive()
                comparison = try binary("in", operand, right, at: position)
                operand = right
            } else if case .name("not") = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                index += 2
                let right = try additive()
                comparison = try unary("not", try binary("in", operand, right, at: position), at: position)
                operand = right
            } else {
                return chain ?? operand
            }
            if let previous = chain {
                chain = try binary("and", previous, comparison, at: position)
            } else {
                chain = comparison
            }
        }
    }

    private mutating func additive() throws(TemplateError) -> Parsed {
        var left = try concatenation()
        while case .symbol(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            let position = next().position
            left = try binary(symbol, left, try concatenation(), at: position)
        }
        return left
    }

    private mutating func concatenation() throws(TemplateError) -> Parsed {
        var left = try multiplicative()
        while case .symbol("~") = current.kind {
            let position = next().position
            left = try binary("~", left, try multiplicative(), at: position)
        }
        return left
    }

    private mutating func multiplicative() throws(TemplateError) -> Parsed {
        var left = try power()
        while case .symbol(let symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            let position = next().position
            left = try binary(symbol, left, try power(), at: position)
        }
        return left
    }

    private mutating func power() throws(TemplateError) -> Parsed {
        var left = try unary()
        while case .symbol("**") = current.kind {
            let position = next().position
            left = try binary("**", left, try unary(), at: position)
        }
        return left
    }

    private mutating func unary(withFilters: Bool = true) throws(TemplateError) -> Parsed {
        var value: Parsed
        if case .symbol(let symbol) = current.kind, symbol == "-" || symbol == "+" {
            let position = next().position
            let operand = try nested(at: position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.unary(withFilters: false) }
            value = try unary(symbol, operand, at: position)
        } else {
            value = try primary()
        }
        value = try postfix(value)
        return withFilters ? try filters(value) : value
    }

    private mutating func primary() throws(TemplateError) -> Parsed {
        let token = next()
        switch token.kind {
        case .name(let word):
            switch word {
            case "true", "True": return Parsed(node: .literal(.bool(true)), height: 1)
            case "false", "False": return Parsed(node: .literal(.bool(false)), height: 1)
            case "none", "None": return Parsed(node: .literal(.none), height: 1)
            default: return Parsed(node: .variable(word), height: 1)
            }
        case .string(var text):
            while case .string(let more) = current.kind {
                text += more
                _ = next()
            }
            return Parsed(node: .literal(.string(text)), height: 1)
        case .integer(let integer): return Parsed(node: .literal(.int(integer)), height: 1)
        case .float(let number): return Parsed(node: .literal(.double(number)), height: 1)
        case .symbol("("):
            let (elements, isTuple) = try nested(at: token.position) { (parser: inout TemplateParser) throws(TemplateError) in
                try parser.parenthesized()
            }
            guard isTuple else { return elements[0] }
            return try collection(.tuple(elements.map(\.node), token.position), of: elements, at: token.position)
        case .symbol("["):
            let elements = try nested(at: token.position) { (parser: inout TemplateParser) throws(TemplateError) in
                try parser.elements(until: "]")
            }
            return try collection(.list(elements.map(\.node), token.position), of: elements, at: token.position)
        case .symbol("{"):
            let entries = try nested(at: token.position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.entries() }
            return try collection(.dictionary(entries.map { ($0.key.node, $0.value.node) }, token.position),
                                  of: entries.flatMap { [$0.key, $0.value] }, at: token.position)
        default:
            throw .syntax("unexpected \(describe(token.kind))", at: token.position)
        }
    }

    private func collection(_ node: TemplateExpression, of elements: [Parsed], at position: SourcePosition) throws(TemplateError) -> Parsed {
        try parsed(node, height: 1 + (elements.map(\.height).max() ?? 0), at: position)
    }

    /// After `(`: a parenthesized expression (one element, not a tuple) or a tuple, up to and including `)`.
    private mutating func parenthesized() throws(TemplateError) -> (elements: [Parsed], isTuple: Bool) {
        if accept(.symbol(")")) { return ([], true) }
        let first = try expression()
        guard accept(.symbol(",")) else {
            try expect(.symbol(")"), "')'")
            return ([first], false)
        }
        return ([first] + (try elements(until: ")")), true)
    }

    /// Comma-separated expressions up to and including `closing`.
    private mutating func elements(until closing: String) throws(TemplateError) -> [Parsed] {
        var elements: [Parsed] = []
        while !accept(.symbol(closing)) {
            elements.append(try expression())
            if !accept(.symbol(",")) { try expect(.symbol(closing), "'\(closing)'"); break }
        }
        return elements
    }

    /// The `key: value` entries of a dictionary literal after `{`, up to and including `}`.
    private mutating func entries() throws(TemplateError) -> [(key: Parsed, value: Parsed)] {
        var entries: [(key: Parsed, value: Parsed)] = []
        while !accept(.symbol("}")) {
            let key = try expression()
            try expect(.symbol(":"), "':'")
            entries.append((key, try expression()))
            if !accept(.symbol(",")) { try expect(.symbol("}"), "'}'"); break }
        }
        return entries
    }

    private mutating func postfix(_ base: Parsed) throws(TemplateError) -> Parsed {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol(".")) {
                switch next().kind {
                case .name(let attribute): value = try parsed(.attribute(value.node, attribute, position), height: value.height + 1, at: position)
                case .integer(let integer):
                    value = try parsed(.subscript_(value.node, .literal(.int(integer)), position), height: value.height + 1, at: position)
                default: throw .syntax("expected an attribute name after '.'", at: position)
                }
            } else if accept(.symbol("[")) {
                let parts = try nested(at: position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.subscriptParts() }
                value = try subscriptOrSlice(value, parts, at: position)
            } else if accept(.symbol("(")) {
                let (arguments, height) = try nested(at: position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.arguments() }
                value = try parsed(.call(value.node, arguments, position), height: 1 + max(value.height, height), at: position)
            } else {
                return value
            }
        }
    }

    /// What stands between `[` and `]`: a key, or up to three slice bounds (nil where left out).
    private mutating func subscriptParts() throws(TemplateError) -> (parts: [Parsed?], isSlice: Bool) {
        var parts: [Parsed?] = [nil]
        var isSlice = false
        while !accept(.symbol("]")) {
            if accept(.symbol(":")) {
                isSlice = true
                parts.append(nil)
            } else {
                parts[parts.count - 1] = try expression()
            }
        }
        return (parts, isSlice)
    }

    private func subscriptOrSlice(_ value: Parsed, _ access: (parts: [Parsed?], isSlice: Bool), at position: SourcePosition) throws(TemplateError) -> Parsed {
        let parts = access.parts
        let height = 1 + max(value.height, parts.compactMap { $0?.height }.max() ?? 0)
        guard access.isSlice else {
            guard let key = parts[0] else { throw .syntax("empty subscript", at: position) }
            return try parsed(.subscript_(value.node, key.node, position), height: height, at: position)
        }
        guard parts.count <= 3 else { throw .syntax("too many ':' in a slice", at: position) }
        return try parsed(.slice(value.node, start: parts[0]?.node, stop: parts[1]?.node, step: parts.count > 2 ? parts[2]?.node : nil, position),
                          height: height, at: position)
    }

    /// Arguments after an opening parenthesis, up to and including the closing one, with the height of the tallest.
    private mutating func arguments() throws(TemplateError) -> (TemplateExpression.Arguments, height: Int) {
        var arguments = TemplateExpression.Arguments()
        var height = 0
        while !accept(.symbol(")")) {
            if case .name(let keyword) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .symbol("=") {
                index += 2
                let argument = try expression()
                arguments.keywords.append((keyword, argument.node))
                height = max(height, argument.height)
            } else {
                let argument = try expression()
                arguments.positional.append(argument.node)
                height = max(height, argument.height)
            }
            if !accept(.symbol(",")) { try expect(.symbol(")"), "')'"); break }
        }
        return (arguments, height)
    }

    private mutating func filters(_ base: Parsed) throws(TemplateError) -> Parsed {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol("|")) {
                let filterName = try name()
                guard TemplateFilters.names.contains(filterName) else { throw .unsupported("the '\(filterName)' filter", at: position) }
                var (arguments, height) = (TemplateExpression.Arguments(), 0)
                if accept(.symbol("(")) {
                    (arguments, height) = try nested(at: position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.arguments() }
                }
                value = try parsed(.filter(value.node, name: filterName, arguments, position), height: 1 + max(value.height, height), at: position)
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                let testName: String
                switch next().kind {
                case .name(let word): testName = word
                case .symbol(let symbol) where ["==", "!=", "<", ">", "<=", ">="].contains(symbol): testName = symbol
                default: throw .syntax("expected a test name after 'is'", at: position)
                }
                guard TemplateTests.names.contains(testName) else { throw .unsupported("the '\(testName)' test", at: position) }
                var (arguments, height) = (TemplateExpression.Arguments(), 0)
                if accept(.symbol("(")) {
                    (arguments, height) = try nested(at: position) { (parser: inout TemplateParser) throws(TemplateError) in try parser.arguments() }
                } else if startsBareTestArgument {
                    let argument = try unary(withFilters: false)
                    arguments.positional.append(argument.node)
                    height = argument.height
                }
                value = try parsed(.test(value.node, name: testName, arguments, negated: negated, position),
                                   height: 1 + max(value.height, height), at: position)
            } else {
                return value
            }
        }
    }

    /// Jinja lets a test take one argument without parentheses: `x is sameas none`, `x is divisibleby 3`.
    private var startsBareTestArgument: Bool {
        switch current.kind {
        case .string, .integer, .float: true
        case .name(let word): !["and", "or", "else", "if", "in", "is", "not"].contains(word)
        case .symbol(let symbol): symbol == "[" || symbol == "{" || symbol == "-"
        default: false
        }
    }

    // MARK: Helpers

    mutating func accept(_ kind: TemplateToken.Kind) -> Bool {
        guard current.kind == kind else { return false }
        _ = next()
        return true
    }

    mutating func expect(_ kind: TemplateToken.Kind, _ description: String) throws(TemplateError) {
        guard accept(kind) else { throw .syntax("expected \(description), found \(describe(current.kind))", at: current.position) }
    }

    mutating func name() throws(TemplateError) -> String {
        guard case .name(let word) = current.kind else { throw .syntax("expected a name, found \(describe(current.kind))", at: current.position) }
        _ = next()
        return word
    }

    func describe(_ kind: TemplateToken.Kind) -> String {
        switch kind {
        case .text: "text"
        case .blockBegin: "'{%'"
        case .blockEnd: "'%}'"
        case .variableBegin: "'{{'"
        case .variableEnd: "'}}'"
        case .name(let word): "'\(word)'"
        case .string: "a string"
        case .integer, .float: "a number"
        case .symbol(let symbol): "'\(symbol)'"
        case .end: "the end of the template"
        }
    }
}
