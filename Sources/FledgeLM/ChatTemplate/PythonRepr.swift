/// Python's `repr`, for text that must read as Python writes it (a tool's error as TRL renders it:
/// `{'error': 'division by zero'}`).
public enum PythonRepr {
    /// The `repr` of a string: single quotes unless the text holds a single quote and no double quote, with
    /// Python's escapes.
    public static func string(_ text: String) -> String {
        TemplatePrinter.quoted(text)
    }
}
