/// A bound that every chat template is parsed and rendered within, so that no template, however
/// careless or hostile, can crash the process (a stack overflow, an integer trap, an allocation
/// failure) or hang it. Going past one throws ``TemplateError/limitExceeded(_:_:at:)``, which names
/// the limit, its value, and the line and column of the construct at fault.
///
/// The values leave real chat templates far behind: the templates of the models Fledge is tested
/// with nest at most 19 levels, render within 30 levels of recursion, and take at most a few hundred
/// steps per message. The depth limits are sized so that a debug build, whose stack frames are
/// several times larger than a release build's, parses and renders any template within a 512 KiB
/// thread stack (the size of a secondary thread's stack on macOS) with room to spare.
public struct TemplateLimit: Sendable, Equatable, CustomStringConvertible {
    /// What the limit bounds, for error messages ("range length").
    public let name: String
    /// The largest amount allowed.
    public let value: Int

    public var description: String { "\(name) limit (\(value))" }

    /// 100,000 items in one `range(...)`: Jinja's `SandboxedEnvironment`, in which transformers renders
    /// chat templates, raises `OverflowError` ("Range too big. The sandbox blocks ranges larger than
    /// MAX_RANGE (100000).") past `MAX_RANGE = 100000` (`jinja2/sandbox.py`); Fledge blocks the same ranges.
    public static let rangeLength = TemplateLimit(name: "range length", value: 100_000)

    /// 48 levels of nesting in the template's source: blocks (`if`, `for`, `macro`, `set` ... `endset`,
    /// `generation`) inside blocks, and within them expressions inside brackets, parentheses, prefix
    /// operators, conditional `else` branches and chains of operators, filters and attribute or item
    /// accesses (`a + b + c` is three levels: it is a tree of two `+` over the operands). Parsing and
    /// rendering recurse once per level; parsing takes up to about 4.6 KiB of stack per level in a
    /// debug build, so 48 levels need about 225 KiB, well inside a 512 KiB thread stack. The deepest of
    /// the real templates Fledge is tested with nests 19 levels; Python's own recursion limit stops
    /// Jinja at about 80 nested parentheses.
    public static let nestingDepth = TemplateLimit(name: "nesting depth", value: 48)

    /// 128 levels of recursion while rendering: each statement, expression, loop iteration and macro
    /// call that runs inside another is one level, so a macro that calls itself stops after a few
    /// dozen calls (fewer when its body nests deeply). A level takes up to about 1.7 KiB of stack in a
    /// debug build, so 128 levels need about 220 KiB, and a value ``valueDepth`` deep can still be
    /// printed or compared at the deepest level within a 512 KiB thread stack. Real templates render
    /// within 30 levels; those that recurse (to print nested JSON schemas of tools) take about 15
    /// levels per level of the schema.
    public static let renderDepth = TemplateLimit(name: "render depth", value: 128)

    /// 48 levels of nesting in a list, tuple, dictionary or namespace that the template builds
    /// (`[x]`, `{"k": x}`, `dict(k=x)`, `namespace(a=x)`, `ns.a = x`): printing, comparing and
    /// freeing a value recurse once per level, at up to about 1.7 KiB of stack per level in a debug
    /// build. Values from the conversation are as deep as their JSON (the JSON reader's own limit);
    /// this bounds what the template makes of them, which for real templates is a tool's JSON schema
    /// (about a dozen levels) inside a list or two.
    public static let valueDepth = TemplateLimit(name: "value depth", value: 48)

    /// 16 MiB (16,777,216 bytes of UTF-8) in the rendered text and in every string the template builds
    /// on the way (`'x' * n`, `~`, `+`, `join`, `replace`, printing a list, `tojson`): some four
    /// million tokens, far beyond any model's context, yet small enough that a hostile template cannot
    /// exhaust memory. The length is checked before the string is built.
    public static let textLength = TemplateLimit(name: "text length", value: 16 << 20)

    /// 1,000,000 items in a list or tuple the template builds by repetition or concatenation
    /// (`[x] * n`, `a + b`); lists from the conversation and from filters are as long as their input.
    public static let listLength = TemplateLimit(name: "list length", value: 1_000_000)

    /// 10,000,000 steps of work per render: a step is one statement run, one expression evaluated,
    /// one loop iteration, one item that an operation or filter visits (comparing, searching,
    /// sorting, copying, printing), or 64 bytes of text read or built. Nested loops of 100,000 ×
    /// 100,000 iterations stop with an error after about five million iterations. The real templates
    /// Fledge is tested with take 20 to 400 steps per message, so tens of thousands of messages fit;
    /// Gemma 4's, which looks back over all earlier messages for each message, takes about 2.6·n² steps
    /// for n messages and fits about 1,900.
    public static let steps = TemplateLimit(name: "work", value: 10_000_000)

    /// Integers are 64-bit (−9,223,372,036,854,775,808 … 9,223,372,036,854,775,807): an integer literal,
    /// sum, difference, product, power or negation outside that range is an error, where Python's
    /// unbounded integers would grow. Integers in real chat templates are indices and counts.
    public static let integerMagnitude = TemplateLimit(name: "64-bit integer", value: Int.max)

    /// Throws ``TemplateError/limitExceeded(_:_:at:)`` at `position` with `message` (what went past the
    /// limit, and by how much) when `amount` is above the limit.
    func check(_ amount: Int, at position: SourcePosition, _ message: @autoclosure () -> String) throws(TemplateError) {
        guard amount <= value else { throw .limitExceeded(self, message(), at: position) }
    }
}
