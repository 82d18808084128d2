/// Parses template tokens into statements: the Jinja subset that real chat templates use.
/// Anything else fails with ``TemplateError/unsupported(_:at:)`` naming the construct.
struct TemplateParser {
    private let tokens: [TemplateToken]
    private var index = 0

    static func parse(_ template: String) throws(TemplateError) -> [Statement] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(template))
        let (body, end) = try parser.statements(until: [])
        if let end { throw .syntax("unexpected '\(end.name)'", at: end.position) }
        return body
    }

    private init(tokens: [TemplateToken]) { self.tokens = tokens }

    // MARK: Statements

    private var current: TemplateToken { tokens[index] }

    private mutating func next() -> TemplateToken {
        defer { if index < tokens.count - 1 { index += 1 } }
        return tokens[index]
    }

    /// Statements up to one of the `{% name %}` tags in `terminators` (returned, consumed up to its name) or the end.
    private mutating func statements(until terminators: Set<String>) throws(TemplateError) -> ([Statement], (name: String, position: SourcePosition)?) {
        var body: [Statement] = []
        while true {
            let token = next()
            switch token.kind {
            case .end:
                if !terminators.isEmpty {
                    throw .syntax("missing \(terminators.sorted().map { "{% \($0) %}" }.joined(separator: " or "))", at: token.position)
                }
                return (body, nil)
            case .text(let text):
                body.append(.text(text))
            case .variableBegin:
                let expression = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
                try expect(.variableEnd, "'}}'")
                body.append(.output(expression))
            case .blockBegin:
                guard case .name(let name) = current.kind else { throw .syntax("expected a tag name", at: current.position) }
                let position = current.position
                if terminators.contains(name) {
                    _ = next()
                    return (body, (name, position))
                }
                _ = next()
                body.append(try statement(name, at: position))
            default:
                throw .syntax("unexpected token", at: token.position)
            }
        }
    }

    private mutating func statement(_ name: String, at position: SourcePosition) throws(TemplateError) -> Statement {
        switch name {
        case "if": return try ifStatement()
        case "for": return try forStatement()
        case "set": return try setStatement(at: position)
        case "macro": return try macroStatement()
        case "break", "continue":
            try expect(.blockEnd, "'%}'")
            return .loopControl(isBreak: name == "break")
        case "generation":
            try expect(.blockEnd, "'%}'")
            let (body, _) = try statements(until: ["endgeneration"])
            try expect(.blockEnd, "'%}'")
            return .generation(body)
        case "elif", "else", "endif", "endfor", "endmacro", "endset", "endgeneration":
            throw .syntax("unexpected '{% \(name) %}'", at: position)
        default:
            throw .unsupported("the '{% \(name) %}' tag", at: position)
        }
    }

    private mutating func ifStatement() throws(TemplateError) -> Statement {
        var branches: [(condition: Located<Expression>, body: [Statement])] = []
        var condition = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
        while true {
            try expect(.blockEnd, "'%}'")
            let (body, end) = try statements(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end?.name {
            case "elif":
                condition = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
            case "else":
                try expect(.blockEnd, "'%}'")
                let (otherwise, _) = try statements(until: ["endif"])
                try expect(.blockEnd, "'%}'")
                return .ifChain(branches, otherwise: otherwise)
            default:
                try expect(.blockEnd, "'%}'")
                return .ifChain(branches, otherwise: [])
            }
        }
    }

    private mutating func forStatement() throws(TemplateError) -> Statement {
        var targets = [try name()]
        while accept(.symbol(",")) { targets.append(try name()) }
        guard accept(.name("in")) else { throw .syntax("expected 'in'", at: current.position) }
        let iterable = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression(allowConditional: false) }
        var filter: Located<Expression>? = nil
        if accept(.name("if")) {
            filter = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
        }
        if case .name("recursive") = current.kind { throw .unsupported("recursive for loops", at: current.position) }
        try expect(.blockEnd, "'%}'")
        let (body, end) = try statements(until: ["else", "endfor"])
        var otherwise: [Statement] = []
        if end?.name == "else" {
            try expect(.blockEnd, "'%}'")
            (otherwise, _) = try statements(until: ["endfor"])
        }
        try expect(.blockEnd, "'%}'")
        return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise)
    }

    private mutating func setStatement(at position: SourcePosition) throws(TemplateError) -> Statement {
        let first = try name()
        let target: Statement.AssignmentTarget
        if accept(.symbol(".")) {
            target = .attribute(object: first, name: try name(), position: position)
        } else {
            var names = [first]
            while accept(.symbol(",")) { names.append(try name()) }
            target = .names(names)
        }
        if case .blockEnd = current.kind, case .names(let names) = target, names.count == 1 {
            _ = next()
            let (body, _) = try statements(until: ["endset"])
            try expect(.blockEnd, "'%}'")
            return .setBlock(name: first, body: body)
        }
        guard accept(.symbol("=")) else { throw .syntax("expected '=' in set", at: current.position) }
        let value = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
        try expect(.blockEnd, "'%}'")
        return .set(target: target, value: value)
    }

    private mutating func macroStatement() throws(TemplateError) -> Statement {
        let macroName = try name()
        try expect(.symbol("("), "'('")
        var parameters: [(String, Expression?)] = []
        while !accept(.symbol(")")) {
            let parameter = try name()
            parameters.append((parameter, accept(.symbol("=")) ? try expression() : nil))
            if !accept(.symbol(",")) {
                try expect(.symbol(")"), "')'")
                break
            }
        }
        try expect(.blockEnd, "'%}'")
        let (body, _) = try statements(until: ["endmacro"])
        if case .name = current.kind { _ = next() }
        try expect(.blockEnd, "'%}'")
        return .macro(name: macroName, parameters: parameters, body: body)
    }

    // MARK: Expressions (Jinja's precedence, lowest first)

    private mutating func located(_ parse: (inout TemplateParser) throws(TemplateError) -> Expression) throws(TemplateError) -> Located<Expression> {
        let position = current.position
        return Located(node: try parse(&self), position: position)
    }

    private mutating func expression(allowConditional: Bool = true) throws(TemplateError) -> Expression {
        let value = try or()
        guard allowConditional, accept(.name("if")) else { return value }
        let condition = try or()
        let otherwise = accept(.name("else")) ? try expression() : nil
        return .conditional(condition: condition, then: value, otherwise: otherwise)
    }

    private mutating func or() throws(TemplateError) -> Expression {
        var left = try and()
        while case .name("or") = current.kind {
            let position = next().position
            left = .binary("or", left, try and(), position)
        }
        return left
    }

    private mutating func and() throws(TemplateError) -> Expression {
        var left = try not()
        while case .name("and") = current.kind {
            let position = next().position
            left = .binary("and", left, try not(), position)
        }
        return left
    }

    private mutating func not() throws(TemplateError) -> Expression {
        if case .name("not") = current.kind {
            let position = next().position
            return .unary("not", try not(), position)
        }
        return try comparison()
    }

    private mutating func comparison() throws(TemplateError) -> Expression {
        var left = try additive()
        while true {
            let position = current.position
            if case .symbol(let symbol) = current.kind, ["==", "!=", "<", ">", "<=", ">="].contains(symbol) {
                _ = next()
                left = .binary(symbol, left, try additive(), position)
            } else if accept(.name("in")) {
                left = .binary("in", left, try additive(), position)
            } else if case .name("not") = current.kind, index + 1 < tokens.count, tokens[index + 1].kind == .name("in") {
                index += 2
                left = .unary("not", .binary("in", left, try additive(), position), position)
            } else {
                return left
            }
        }
    }

    private mutating func additive() throws(TemplateError) -> Expression {
        var left = try concatenation()
        while case .symbol(let symbol) = current.kind, symbol == "+" || symbol == "-" {
            let position = next().position
            left = .binary(symbol, left, try concatenation(), position)
        }
        return left
    }

    private mutating func concatenation() throws(TemplateError) -> Expression {
        var left = try multiplicative()
        while case .symbol("~") = current.kind {
            let position = next().position
            left = .binary("~", left, try multiplicative(), position)
        }
        return left
    }

    private mutating func multiplicative() throws(TemplateError) -> Expression {
        var left = try power()
        while case .symbol(let symbol) = current.kind, ["*", "/", "//", "%"].contains(symbol) {
            let position = next().position
            left = .binary(symbol, left, try power(), position)
        }
        return left
    }

    private mutating func power() throws(TemplateError) -> Expression {
        var left = try unary()
        while case .symbol("**") = current.kind {
            let position = next().position
            left = .binary("**", left, try unary(), position)
        }
        return left
    }

    private mutating func unary(withFilters: Bool = true) throws(TemplateError) -> Expression {
        var value: Expression
        if case .symbol(let symbol) = current.kind, symbol == "-" || symbol == "+" {
            let position = next().position
            value = .unary(symbol, try unary(withFilters: false), position)
        } else {
            value = try primary()
        }
        value = try postfix(value)
        return withFilters ? try filters(value) : value
    }

    private mutating func primary() throws(TemplateError) -> Expression {
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
            if accept(.symbol(")")) { return .list([]) }
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
            return .list(elements)
        case .symbol("["):
            var elements: [Expression] = []
            while !accept(.symbol("]")) {
                elements.append(try expression())
                if !accept(.symbol(",")) { try expect(.symbol("]"), "']'"); break }
            }
            return .list(elements)
        case .symbol("{"):
            var entries: [(Expression, Expression)] = []
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

    private mutating func postfix(_ base: Expression) throws(TemplateError) -> Expression {
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

    private mutating func subscriptOrSlice(_ value: Expression, at position: SourcePosition) throws(TemplateError) -> Expression {
        var parts: [Expression?] = [nil]
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
    private mutating func arguments() throws(TemplateError) -> Expression.Arguments {
        var arguments = Expression.Arguments()
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

    private mutating func filters(_ base: Expression) throws(TemplateError) -> Expression {
        var value = base
        while true {
            let position = current.position
            if accept(.symbol("|")) {
                let filterName = try name()
                guard TemplateFilters.names.contains(filterName) else { throw .unsupported("the '\(filterName)' filter", at: position) }
                let arguments = accept(.symbol("(")) ? try arguments() : Expression.Arguments()
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
                var testArguments = Expression.Arguments()
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

    private mutating func accept(_ kind: TemplateToken.Kind) -> Bool {
        guard current.kind == kind else { return false }
        _ = next()
        return true
    }

    private mutating func expect(_ kind: TemplateToken.Kind, _ description: String) throws(TemplateError) {
        guard accept(kind) else { throw .syntax("expected \(description), found \(describe(current.kind))", at: current.position) }
    }

    private mutating func name() throws(TemplateError) -> String {
        guard case .name(let word) = current.kind else { throw .syntax("expected a name, found \(describe(current.kind))", at: current.position) }
        _ = next()
        return word
    }

    private func describe(_ kind: TemplateToken.Kind) -> String {
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
