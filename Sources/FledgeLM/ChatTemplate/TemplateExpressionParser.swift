/// Expressions of the template language, parsed with Jinja's precedence (lowest first):
/// conditional, `or`, `and`, `not`, comparisons and `in`, `+ -`, `~`, `* / // %`, `**`, unary, then
/// primaries with attribute, item, slice and call postfixes, filters and tests.
extension TemplateParser {
    mutating func located(_ parse: (inout TemplateParser) throws(TemplateError) -> TemplateExpression) throws(TemplateError) -> Located<TemplateExpression> {
        let position = current.position
        return Located(node: try parse(&self), position: position)
    }

    mutating func expression(allowConditional: Bool = true) throws(TemplateError) -> TemplateExpression {
        let value = try or()
        guard allowConditional, accept(.name("if")) else { return value }
        let condition = try or()
        let otherwise = accept(.name("else")) ? try expression() : nil
        return .conditional(condition: condition, then: value, otherwise: otherwise)
    }

    private mutating func or() throws(TemplateError) -> TemplateExpression {
        var left = try and()
        while case .name("or") = current.kind {
            let position = next().position
            left = .binary("or", left, try and(), position)
        }
        return left
    }

    private mutating func and() throws(TemplateError) -> TemplateExpression {
        var left = try not()
        while case .name("and") = current.kind {
            let position = next().position
            left = .binary("and", left, try not(), position)
        }
        return left
    }

    private mutating func not() throws(TemplateError) -> TemplateExpression {
        if case .name("not") = current.kind {
            let position = next().position
            return .unary("not", try not(), position)
        }
        return try comparison()
    }

    /// Comparisons chain as in Python: `a < b < c` is `a < b and b < c`.
    private mutating func comparison() throws(TemplateError) -> TemplateExpression {
        var operand = try additive()
        var chain: TemplateExpression? = nil
        while true {
            let position = current.position
            var comparison: TemplateExpression
            if case .symbol(let symbol) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                _ = next()
                let right = try additive()
                comparison = .binary(symbol, operand, right, position)
                operand = right
            } else if accept(.name("in")) {
                let right = try additive()
                comparison = .binary("in", operand, right, position)
                operand = right
            } else if case .name("not") = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                index += 2
                let right = try additive()
                comparison = .unary("not", .binary("in", operand, right, position), position)
                operand = right
            } else {
                return chain ?? operand
            }
            chain = chain.map { .binary("and", $0, comparison, position) } ?? comparison
        }
    }

    private mutating func additive() throws(TemplateError) -> TemplateExpression {
        var left = try concatenation()
        while case .symbol(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            let position = next().position
            left = .binary(symbol, left, try concatenation(), position)
        }
        return left
    }

    private mutating func concatenation() throws(TemplateError) -> TemplateExpression {
        var left = try multiplicative()
        while case .symbol("~") = current.kind {
            let position = next().position
            left = .binary("~", left, try multiplicative(), position)
        }
        return left
    }

    private mutating func multiplicative() throws(TemplateError) -> TemplateExpression {
        var left = try power()
        while case .symbol(let symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            let position = next().position
            left = .binary(symbol, left, try power(), position)
        }
        return left
    }

    private mutating func power() throws(TemplateError) -> TemplateExpression {
        var left = try unary()
        while case .symbol("**") = current.kind {
            let position = next().position
            left = .binary("**", left, try unary(), position)
        }
        return left
    }

    private mutating func unary(withFilters: Bool = true) throws(TemplateError) -> TemplateExpression {
        var value: TemplateExpression
        if case .symbol(let symbol) = current.kind, symbol == "-" || symbol == "+" {
            let position = next().position
            value = .unary(symbol, try unary(withFilters: false), position)
        } else {
            value = try primary()
        }
        value = try postfix(value)
        return withFilters ? try filters(value) : value
    }

    private mutating func primary() throws(TemplateError) -> TemplateExpression {
        let token = next()
        switch token.kind {
        case .name(let word):
            switch word {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .variable(word)
            }
        case .string(var text):
            while case .string(let more) = current.kind {
                text += more
                _ = next()
            }
            return .literal(.string(text))
        case .integer(let integer): return .literal(.int(integer))
        case .float(let number): return .literal(.double(number))
        case .symbol("("):
            if accept(.symbol(")")) { return .tuple([]) }
            let first = try expression()
            guard accept(.symbol(",")) else {
                try expect(.symbol(")"), "')'")
                return first
            }
            var elements = [first]
            while !accept(.symbol(")")) {
                elements.append(try expression())
                if !accept(.symbol(",")) { try expect(.symbol(")"), "')'"); break }
            }
            return .tuple(elements)
        case .symbol("["):
            var elements: [TemplateExpression] = []
            while !accept(.symbol("]")) {
                elements.append(try expression())
                if !accept(.symbol(",")) { try expect(.symbol("]"), "']'"); break }
            }
            return .list(elements)
        case .symbol("{"):
            var entries: [(TemplateExpression, TemplateExpression)] = []
            while !accept(.symbol("}")) {
                let key = try expression()
                try expect(.symbol(":"), "':'")
                entries.append((key, try expression()))
                if !accept(.symbol(",")) { try expect(.symbol("}"), "'}'"); break }
            }
            return .dictionary(entries, token.position)
        default:
            throw .syntax("unexpected \(describe(token.kind))", at: token.position)
        }
    }

    private mutating func postfix(_ base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol(".")) {
                switch next().kind {
                case .name(let attribute): value = .attribute(value, attribute, position)
                case .integer(let integer): value = .subscript_(value, .literal(.int(integer)), position)
                default: throw .syntax("expected an attribute name after '.'", at: position)
                }
            } else if accept(.symbol("[")) {
                value = try subscriptOrSlice(value, at: position)
            } else if accept(.symbol("(")) {
                value = .call(value, try arguments(), position)
            } else {
                return value
            }
        }
    }

    private mutating func subscriptOrSlice(_ value: TemplateExpression, at position: SourcePosition) throws(TemplateError) -> TemplateExpression {
        var parts: [TemplateExpression?] = [nil]
        var isSlice = false
        while !accept(.symbol("]")) {
            if accept(.symbol(":")) {
                isSlice = true
                parts.append(nil)
            } else {
                parts[parts.count - 1] = try expression()
            }
        }
        guard isSlice else {
            guard let key = parts[0] else { throw .syntax("empty subscript", at: position) }
            return .subscript_(value, key, position)
        }
        guard parts.count <= 3 else { throw .syntax("too many ':' in a slice", at: position) }
        return .slice(value, start: parts[0], stop: parts[1], step: parts.count > 2 ? parts[2] : nil, position)
    }

    /// Arguments after an opening parenthesis, up to and including the closing one.
    private mutating func arguments() throws(TemplateError) -> TemplateExpression.Arguments {
        var arguments = TemplateExpression.Arguments()
        while !accept(.symbol(")")) {
            if case .name(let keyword) = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .symbol("=") {
                index += 2
                arguments.keywords.append((keyword, try expression()))
            } else {
                arguments.positional.append(try expression())
            }
            if !accept(.symbol(",")) { try expect(.symbol(")"), "')'"); break }
        }
        return arguments
    }

    private mutating func filters(_ base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol("|")) {
                let filterName = try name()
                guard TemplateFilters.names.contains(filterName) else { throw .unsupported("the '\(filterName)' filter", at: position) }
                let arguments = accept(.symbol("(")) ? try arguments() : TemplateExpression.Arguments()
                value = .filter(value, name: filterName, arguments, position)
            } else if accept(.name("is")) {
                let negated = accept(.name("not"))
                let testName: String
                switch next().kind {
                case .name(let word): testName = word
                case .symbol(let symbol) where ["==", "!=", "<", ">", "<=", ">="].contains(symbol): testName = symbol
                default: throw .syntax("expected a test name after 'is'", at: position)
                }
                guard TemplateTests.names.contains(testName) else { throw .unsupported("the '\(testName)' test", at: position) }
                var testArguments = TemplateExpression.Arguments()
                if accept(.symbol("(")) {
                    testArguments = try arguments()
                } else if startsBareTestArgument {
                    testArguments.positional.append(try unary(withFilters: false))
                }
                value = .test(value, name: testName, testArguments, negated: negated, position)
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
