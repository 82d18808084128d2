/// Parses template tokens into statements: the Jinja subset that real chat templates use.
/// Anything else fails with ``TemplateError/unsupported(_:at:)`` naming the construct.
struct TemplateParser {
    let tokens: [TemplateToken]
    var index = 0
    /// How many levels (blocks, brackets, prefix operators) enclose the current token.
    var depth = 0

    static func parse(_ template: String) throws(TemplateError) -> [TemplateStatement] {
        var parser = TemplateParser(tokens: try TemplateLexer.tokenize(template))
        let (body, end) = try parser.statements(until: [])
        if let end { throw .syntax("unexpected '\(end.name)'", at: end.position) }
        return body
    }

    private init(tokens: [TemplateToken]) { self.tokens = tokens }

    // MARK: Statements

    var current: TemplateToken { tokens[index] }

    mutating func next() -> TemplateToken {
        defer { if index < tokens.count - 1 { index += 1 } }
        return tokens[index]
    }

    /// Statements up to one of the `{% name %}` tags in `terminators` (returned, consumed up to its name) or the end.
    private mutating func statements(until terminators: Set<String>) throws(TemplateError) -> ([TemplateStatement], (name: String, position: SourcePosition)?) {
        var body: [TemplateStatement] = []
        while true {
            let token = next()
            switch token.kind {
            case .end:
                if !terminators.isEmpty {
                    throw .syntax("missing \(terminators.sorted().map { "{% \($0) %}" }.joined(separator: " or "))", at: token.position)
                }
                return (body, nil)
            case .text(let text):
                body.append(.text(text, token.position))
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

    private mutating func statement(_ name: String, at position: SourcePosition) throws(TemplateError) -> TemplateStatement {
        switch name {
        case "if", "for", "set", "macro", "generation":
            try descend(at: position)
            let block = try block(name, at: position)
            ascend()
            return block
        case "break", "continue":
            try expect(.blockEnd, "'%}'")
            return .loopControl(isBreak: name == "break")
        case "elif", "else", "endif", "endfor", "endmacro", "endset", "endgeneration":
            throw .syntax("unexpected '{% \(name) %}'", at: position)
        default:
            throw .unsupported("the '{% \(name) %}' tag", at: position)
        }
    }

    /// A tag that holds statements or an expression: one level deeper than the statements around it.
    private mutating func block(_ name: String, at position: SourcePosition) throws(TemplateError) -> TemplateStatement {
        switch name {
        case "if": return try ifStatement()
        case "for": return try forStatement()
        case "set": return try setStatement(at: position)
        case "macro": return try macroStatement()
        default: return try generationStatement()  // the last block tag that statement(_:at:) sends here
        }
    }

    private mutating func generationStatement() throws(TemplateError) -> TemplateStatement {
        try expect(.blockEnd, "'%}'")
        let (body, _) = try statements(until: ["endgeneration"])
        try expect(.blockEnd, "'%}'")
        return .generation(body)
    }

    private mutating func ifStatement() throws(TemplateError) -> TemplateStatement {
        var branches: [(condition: Located<TemplateExpression>, body: [TemplateStatement])] = []
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

    private mutating func forStatement() throws(TemplateError) -> TemplateStatement {
        var targets = [try name()]
        while accept(.symbol(",")) { targets.append(try name()) }
        guard accept(.name("in")) else { throw .syntax("expected 'in'", at: current.position) }
        let iterable = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression(allowConditional: false) }
        var filter: Located<TemplateExpression>? = nil
        if accept(.name("if")) {
            filter = try located { (parser: inout TemplateParser) throws(TemplateError) in try parser.expression() }
        }
        if case .name("recursive") = current.kind { throw .unsupported("recursive for loops", at: current.position) }
        try expect(.blockEnd, "'%}'")
        let (body, end) = try statements(until: ["else", "endfor"])
        var otherwise: [TemplateStatement] = []
        if end?.name == "else" {
            try expect(.blockEnd, "'%}'")
            (otherwise, _) = try statements(until: ["endfor"])
        }
        try expect(.blockEnd, "'%}'")
        return .forLoop(targets: targets, iterable: iterable, filter: filter, body: body, otherwise: otherwise,
                        usesLoopVariable: body.contains { $0.mentions("loop") })
    }

    private mutating func setStatement(at position: SourcePosition) throws(TemplateError) -> TemplateStatement {
        let first = try name()
        let target: TemplateStatement.AssignmentTarget
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

    private mutating func macroStatement() throws(TemplateError) -> TemplateStatement {
        let macroName = try name()
        try expect(.symbol("("), "'('")
        var parameters: [(String, TemplateExpression?)] = []
        while !accept(.symbol(")")) {
            let parameter = try name()
            parameters.append((parameter, accept(.symbol("=")) ? try expression().node : nil))
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
}
