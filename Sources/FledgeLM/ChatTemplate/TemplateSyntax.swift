/// An expression of the template language, with where it starts in the source.
indirect enum TemplateExpression {
    case literal(TemplateValue)
    case variable(String)
    case list([TemplateExpression], SourcePosition)
    case tuple([TemplateExpression], SourcePosition)
    case dictionary([(TemplateExpression, TemplateExpression)], SourcePosition)
    case attribute(TemplateExpression, String, SourcePosition)
    case subscript_(TemplateExpression, TemplateExpression, SourcePosition)
    case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?, SourcePosition)
    case call(TemplateExpression, Arguments, SourcePosition)
    case filter(TemplateExpression, name: String, Arguments, SourcePosition)
    case test(TemplateExpression, name: String, Arguments, negated: Bool, SourcePosition)
    case unary(String, TemplateExpression, SourcePosition)
    case binary(String, TemplateExpression, TemplateExpression, SourcePosition)
    case conditional(condition: TemplateExpression, then: TemplateExpression, otherwise: TemplateExpression?)

    /// Positional and keyword arguments of a call, filter or test.
    struct Arguments {
        var positional: [TemplateExpression] = []
        var keywords: [(String, TemplateExpression)] = []
    }
}

/// A node with the source position it was parsed from.
struct Located<Node> {
    let node: Node
    let position: SourcePosition
}

/// A statement (tag or output) of the template language.
indirect enum TemplateStatement {
    case text(String, SourcePosition)
    case output(Located<TemplateExpression>)
    case ifChain([(condition: Located<TemplateExpression>, body: [TemplateStatement])], otherwise: [TemplateStatement])
    case forLoop(targets: [String], iterable: Located<TemplateExpression>, filter: Located<TemplateExpression>?, body: [TemplateStatement], otherwise: [TemplateStatement])
    case set(target: AssignmentTarget, value: Located<TemplateExpression>)
    case setBlock(name: String, body: [TemplateStatement])
    case macro(name: String, parameters: [(String, TemplateExpression?)], body: [TemplateStatement])
    case loopControl(isBreak: Bool)
    /// transformers' `{% generation %}` block, which only marks assistant text.
    case generation([TemplateStatement])

    /// What `{% set %}` assigns to.
    enum AssignmentTarget {
        case names([String])
        case attribute(object: String, name: String, position: SourcePosition)
    }
}
