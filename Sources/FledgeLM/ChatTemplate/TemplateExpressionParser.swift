/// Expressions of the template language, parsed with Jinja's precedence (lowest first):
/// conditional, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary, then
/// primaries with attribute, item, slice and call postfixes, filters and tests.
///
/// Every expression is parsed with the height of its tree, and the parser counts the levels it
/// descends (blocks, brackets, prefix operators, `else` branches): together they stay within
/// ``TemplateLimit/nestingDepth``, so neither parsing nor rendering can recurse past it. An error
/// ends the parse, so a level left by an error is not ascended from. The functions on the recursive
/// path are kept small: a debug build gives every local its own stack slot.
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

    /// Enters the level that `opening` (a block tag, a bracket, a prefix operator, an `else` branch)
    /// opens, one deeper than the current one; past the nesting limit that is an error at `opening`.
    /// Each call is paired with ``ascend()``.
    mutating func descend(at opening: SourcePosition) throws(TemplateError) {
        // One level more for the innermost expression's leaf.
        try TemplateLimit.nestingDepth.check(depth + 2, at: opening, nestingMessage)
        depth += 1
    }

    /// Leaves the level the last ``descend(at:)`` entered.
    mutating func ascend() {
        depth -= 1
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
        let value = try operators(above: Precedence.lowest)
        guard allowConditional, case .name("if") = current.kind else { return value }
        return try conditional(value)
    }

    /// `value if condition else otherwise`, after `value`.
    private mutating func conditional(_ value: Parsed) throws(TemplateError) -> Parsed {
        let position = next().position
        let condition = try operators(above: Precedence.lowest)
        var otherwise: Parsed? = nil
        if case .name("else") = current.kind {
            let elsePosition = next().position
            try descend(at: elsePosition)
            defer { ascend() }
            otherwise = try expression()
        }
        return try parsed(.conditional(condition: condition.node, then: value.node, otherwise: otherwise?.node),
                          height: 1 + max(value.height, condition.height, otherwise?.height ?? 0), at: position)
    }

    /// How tightly Jinja's binary operators bind, loosest first; `not` binds between `and` and comparisons.
    private enum Precedence {
        static let lowest = 0, or = 1, and = 2, comparison = 4, additive = 5, concatenation = 6, multiplicative = 7, power = 8
    }

    /// The binary operator at the current token (`not in` spans two), and how tightly it binds.
    private var binaryOperator: (symbol: String, precedence: Int, tokens: Int)? {
        switch current.kind {
        case .name("or"): ("or", Precedence.or, 1)
        case .name("and"): ("and", Precedence.and, 1)
        case .name("in"): ("in", Precedence.comparison, 1)
        case .name("not") where index + 1 < tokens.count && tokens[index + 1].kind == .name("in"): ("not in", Precedence.comparison, 2)
        case .symbol(let symbol):
            switch symbol {
            case "==", "!=", "<", ">", "<=", ">=": (symbol, Precedence.comparison, 1)
            case "+", "-": (symbol, Precedence.additive, 1)
            case "~": (symbol, Precedence.concatenation, 1)
            case "*", "/", "//", "%": (symbol, Precedence.multiplicative, 1)
            case "**": (symbol, Precedence.power, 1)
            default: nil
            }
        default: nil
        }
    }

    /// Operands joined by the binary operators that bind tighter than `minimum`, each level
    /// left-associative (precedence climbing: one call per level climbed, not per level in Jinja's grammar).
    private mutating func operators(above minimum: Int) throws(TemplateError) -> Parsed {
        var left = try notOperand(above: minimum)
        while let op = binaryOperator, op.precedence > minimum {
            let position = current.position
            index += op.tokens
            if op.precedence == Precedence.comparison {
                left = try comparisons(left, op.symbol, at: position)
            } else {
                left = try binary(op.symbol, left, try operators(above: op.precedence), at: position)
            }
        }
        return left
    }

    /// A chain of comparisons after `first` and its first operator, as in Python: `a < b < c` is `a < b and b < c`.
    private mutating func comparisons(_ first: Parsed, _ firstSymbol: String, at firstPosition: SourcePosition) throws(TemplateError) -> Parsed {
        var (operand, symbol, position) = (first, firstSymbol, firstPosition)
        var chain: Parsed? = nil
        while true {
            let right = try operators(above: Precedence.comparison)
            let comparison = symbol == "not in"
                ? try unary("not", try binary("in", operand, right, at: position), at: position)
                : try binary(symbol, operand, right, at: position)
            chain = try chain.map { (previous) throws(TemplateError) in try binary("and", previous, comparison, at: position) } ?? comparison
            operand = right
            guard let next = binaryOperator, next.precedence == Precedence.comparison else { return chain ?? comparison }
            position = current.position
            index += next.tokens
            symbol = next.symbol
        }
    }

    /// An operand, or `not` and its operand where `not` may stand (it binds looser than comparisons).
    private mutating func notOperand(above minimum: Int) throws(TemplateError) -> Parsed {
        guard minimum < Precedence.comparison, case .name("not") = current.kind else { return try unary() }
        let position = next().position
        try descend(at: position)
        defer { ascend() }
        return try unary("not", try operators(above: Precedence.and), at: position)
    }

    private mutating func unary(withFilters: Bool = true) throws(TemplateError) -> Parsed {
        var value: Parsed
        if case .symbol(let symbol) = current.kind, symbol == "-" || symbol == "+" {
            value = try signed(symbol)
        } else {
            value = try primary()
        }
        value = try postfix(value)
        return withFilters ? try filters(value) : value
    }

    /// `-x` or `+x`, after the sign.
    private mutating func signed(_ symbol: String) throws(TemplateError) -> Parsed {
        let position = next().position
        try descend(at: position)
        defer { ascend() }
        return try unary(symbol, try unary(withFilters: false), at: position)
    }

    private mutating func primary() throws(TemplateError) -> Parsed {
        let token = next()
        switch token.kind {
        case .name("true"), .name("True"): return Parsed(node: .literal(.bool(true)), height: 1)
        case .name("false"), .name("False"): return Parsed(node: .literal(.bool(false)), height: 1)
        case .name("none"), .name("None"): return Parsed(node: .literal(.none), height: 1)
        case .name(let word): return Parsed(node: .variable(word), height: 1)
        case .string(let text): return Parsed(node: .literal(.string(text + adjacentStrings())), height: 1)
        case .integer(let integer): return Parsed(node: .literal(.int(integer)), height: 1)
        case .float(let number): return Parsed(node: .literal(.double(number)), height: 1)
        case .symbol("("): return try parenthesized(at: token.position)
        case .symbol("["): return try list(at: token.position)
        case .symbol("{"): return try dictionary(at: token.position)
        default: throw .syntax("unexpected \(describe(token.kind))", at: token.position)
        }
    }

    /// The string literals right after a string literal, which Python joins to it.
    private mutating func adjacentStrings() -> String {
        var text = ""
        while case .string(let more) = current.kind {
            text += more
            _ = next()
        }
        return text
    }

    /// A parenthesized expression or a tuple, after `(` at `position`.
    private mutating func parenthesized(at position: SourcePosition) throws(TemplateError) -> Parsed {
        try descend(at: position)
        if accept(.symbol(")")) {
            ascend()
            return Parsed(node: .tuple([], position), height: 1)
        }
        let first = try expression()
        guard accept(.symbol(",")) else {
            try expect(.symbol(")"), "')'")
            ascend()
            return first
        }
        let elements = [first] + (try elements(until: ")"))
        ascend()
        return try collection(.tuple(elements.map(\.node), position), of: elements, at: position)
    }

    /// A list literal, after `[` at `position`.
    private mutating func list(at position: SourcePosition) throws(TemplateError) -> Parsed {
        try descend(at: position)
        let elements = try elements(until: "]")
        ascend()
        return try collection(.list(elements.map(\.node), position), of: elements, at: position)
    }

    /// A dictionary literal, after `{` at `position`.
    private mutating func dictionary(at position: SourcePosition) throws(TemplateError) -> Parsed {
        try descend(at: position)
        var entries: [(key: Parsed, value: Parsed)] = []
        while !accept(.symbol("}")) {
            let key = try expression()
            try expect(.symbol(":"), "':'")
            entries.append((key, try expression()))
            if !accept(.symbol(",")) { try expect(.symbol("}"), "'}'"); break }
        }
        ascend()
        return try collection(.dictionary(entries.map { ($0.key.node, $0.value.node) }, position),
                              of: entries.flatMap { [$0.key, $0.value] }, at: position)
    }

    private func collection(_ node: TemplateExpression, of elements: [Parsed], at position: SourcePosition) throws(TemplateError) -> Parsed {
        try parsed(node, height: 1 + (elements.map(\.height).max() ?? 0), at: position)
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

    /// Attribute accesses, subscripts, slices and calls after `base`.
    private mutating func postfix(_ base: Parsed) throws(TemplateError) -> Parsed {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol(".")) {
                value = try attribute(of: value, at: position)
            } else if accept(.symbol("[")) {
                value = try subscriptOrSlice(of: value, at: position)
            } else if accept(.symbol("(")) {
                let (arguments, height) = try arguments(at: position)
                value = try parsed(.call(value.node, arguments, position), height: 1 + max(value.height, height), at: position)
            } else {
                return value
            }
        }
    }

    /// `.name` or `.0` after `value`.
    private mutating func attribute(of value: Parsed, at position: SourcePosition) throws(TemplateError) -> Parsed {
        switch next().kind {
        case .name(let attribute): return try parsed(.attribute(value.node, attribute, position), height: value.height + 1, at: position)
        case .integer(let integer): return try parsed(.subscript_(value.node, .literal(.int(integer)), position), height: value.height + 1, at: position)
        default: throw .syntax("expected an attribute name after '.'", at: position)
        }
    }

    /// `value[key]` or `value[start:stop:step]` (any part left out), after `[` at `position`.
    private mutating func subscriptOrSlice(of value: Parsed, at position: SourcePosition) throws(TemplateError) -> Parsed {
        try descend(at: position)
        var parts: [Parsed?] = [nil]
        while !accept(.symbol("]")) {
            if accept(.symbol(":")) {
                parts.append(nil)
            } else {
                parts[parts.count - 1] = try expression()
            }
        }
        ascend()
        let height = 1 + max(value.height, parts.compactMap { $0?.height }.max() ?? 0)
        guard parts.count > 1 else {
            guard let key = parts[0] else { throw .syntax("empty subscript", at: position) }
            return try parsed(.subscript_(value.node, key.node, position), height: height, at: position)
        }
        guard parts.count <= 3 else { throw .syntax("too many ':' in a slice", at: position) }
        return try parsed(.slice(value.node, start: parts[0]?.node, stop: parts[1]?.node, step: parts.count > 2 ? parts[2]?.node : nil, position),
                          height: height, at: position)
    }

    /// Arguments after the `(` at `position`, up to and including the closing one, with the height of the tallest.
    private mutating func arguments(at position: SourcePosition) throws(TemplateError) -> (TemplateExpression.Arguments, height: Int) {
        try descend(at: position)
        var arguments = TemplateExpression.Arguments()
        var height = 0
        while !accept(.symbol(")")) {
            var keyword: String? = nil
            if case .name(let word) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .symbol("=") {
                keyword = word
                index += 2
            }
            let argument = try expression()
            if let keyword { arguments.keywords.append((keyword, argument.node)) } else { arguments.positional.append(argument.node) }
            height = max(height, argument.height)
            if !accept(.symbol(",")) { try expect(.symbol(")"), "')'"); break }
        }
        ascend()
        return (arguments, height)
    }

    /// Filters (`| name(arguments)`) and tests (`is name arguments`) after `base`.
    private mutating func filters(_ base: Parsed) throws(TemplateError) -> Parsed {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol("|")) {
                value = try filter(value, at: position)
            } else if accept(.name("is")) {
                value = try test(value, at: position)
            } else {
                return value
            }
        }
    }

    /// `value | name` or `value | name(arguments)`, after the `|` at `position`.
    private mutating func filter(_ value: Parsed, at position: SourcePosition) throws(TemplateError) -> Parsed {
        let filterName = try name()
        guard TemplateFilters.names.contains(filterName) else { throw .unsupported("the '\(filterName)' filter", at: position) }
        var (arguments, height) = (TemplateExpression.Arguments(), 0)
        if accept(.symbol("(")) { (arguments, height) = try self.arguments(at: position) }
        return try parsed(.filter(value.node, name: filterName, arguments, position), height: 1 + max(value.height, height), at: position)
    }

    /// `value is [not] name [arguments]`, after the `is` at `position`.
    private mutating func test(_ value: Parsed, at position: SourcePosition) throws(TemplateError) -> Parsed {
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
            (arguments, height) = try self.arguments(at: position)
        } else if startsBareTestArgument {
            let argument = try unary(withFilters: false)
            arguments.positional.append(argument.node)
            height = argument.height
        }
        return try parsed(.test(value.node, name: testName, arguments, negated: negated, position), height: 1 + max(value.height, height), at: position)
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
