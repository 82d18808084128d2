import Foundation

/// The functions every chat template can call: Jinja's `range`, `namespace` and `dict`, plus
/// transformers' `raise_exception` and `strftime_now`.
enum TemplateGlobals {
    nonisolated(unsafe) static let builtins: [String: TemplateValue] = [
        "raise_exception": .function(TemplateFunction(name: "raise_exception") { arguments, _, position, budget throws(TemplateError) in
            throw .raised(try arguments.first.map { (message) throws(TemplateError) in
                try TemplatePrinter.printed(message, budget: budget, at: position)
            } ?? "")
        }),
        "namespace": .function(TemplateFunction(name: "namespace") { arguments, keywords, position, budget throws(TemplateError) in
            var attributes = OrderedStringDictionary<TemplateValue>()
            if case .dictionary(let initial)? = arguments.first { attributes = initial }
            for (key, value) in keywords.entries { attributes[key] = value }
            for value in attributes.orderedValues { try value.checkNesting(intoNamespace: true, at: position, budget: budget) }
            return .namespace(TemplateValue.Namespace(attributes))
        }),
        "dict": .function(TemplateFunction(name: "dict") { arguments, keywords, position, budget throws(TemplateError) in
            var result = OrderedStringDictionary<TemplateValue>()
            if case .dictionary(let initial)? = arguments.first { result = initial }
            for (key, value) in keywords.entries { result[key] = value }
            try TemplateValue.dictionary(result).checkNesting(at: position, budget: budget)
            return .dictionary(result)
        }),
        "range": .function(TemplateFunction(name: "range") { arguments, _, position, budget throws(TemplateError) in
            let bounds = arguments.compactMap(\.integer)
            guard bounds.count == arguments.count, (1...3).contains(bounds.count) else {
                throw .runtime("range() takes one to three integers", at: position)
            }
            let start = bounds.count > 1 ? bounds[0] : 0
            let stop = bounds.count > 1 ? bounds[1] : bounds[0]
            let step = bounds.count > 2 ? bounds[2] : 1
            guard step != 0 else { throw .runtime("range() arg 3 must not be zero", at: position) }
            let count = rangeLength(start: start, stop: stop, step: step)
            try TemplateLimit.rangeLength.check(count > UInt(TemplateLimit.rangeLength.value) ? .max : Int(count), at: position,
                "range(\(bounds.map(String.init).joined(separator: ", "))) would have \(count) items. Range too big: the sandbox "
                    + "blocks ranges larger than MAX_RANGE (\(TemplateLimit.rangeLength.value)), as Jinja's sandbox does in transformers")
            try budget.charge(Int(count), at: position)
            return .list((0..<Int(count)).map { .int(start + $0 * step) })
        }),
        "strftime_now": .function(TemplateFunction(name: "strftime_now") { arguments, _, position, budget throws(TemplateError) in
            .string(strftime(try arguments.first.map { (format) throws(TemplateError) in
                try TemplatePrinter.printed(format, budget: budget, at: position)
            } ?? "", Date()))
        }),
    ]

    /// How many items `range(start, stop, step)` has (`step` is not zero), computed without overflow.
    static func rangeLength(start: Int, stop: Int, step: Int) -> UInt {
        let (low, high) = step > 0 ? (start, stop) : (stop, start)
        guard low < high else { return 0 }
        // The distance and the step's magnitude fit in UInt whatever their signs.
        let distance = UInt(bitPattern: high &- low)
        let magnitude = step > 0 ? UInt(step) : UInt(bitPattern: 0 &- step)
        return (distance - 1) / magnitude + 1
    }

    /// Python's `datetime.now().strftime(format)` for the directives templates use.
    static func strftime(_ format: String, _ date: Date) -> String {
        let calendar = Calendar(identifier: .gregorian)
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second, .weekday], from: date)
        let months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"]
        let days = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
        func padded(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        var result = ""
        var escaped = false
        for character in format {
            guard escaped else {
                if character == "%" { escaped = true } else { result.append(character) }
                continue
            }
            escaped = false
            switch character {
            case "d": result += padded(parts.day)
            case "m": result += padded(parts.month)
            case "Y": result += String(parts.year ?? 0)
            case "y": result += padded((parts.year ?? 0) % 100)
            case "H": result += padded(parts.hour)
            case "M": result += padded(parts.minute)
            case "S": result += padded(parts.second)
            case "B": result += months[(parts.month ?? 1) - 1]
            case "b": result += String(months[(parts.month ?? 1) - 1].prefix(3))
            case "A": result += days[(parts.weekday ?? 1) - 1]
            case "a": result += String(days[(parts.weekday ?? 1) - 1].prefix(3))
            case "%": result += "%"
            default: result += "%" + String(character)
            }
        }
        return result
    }
}
