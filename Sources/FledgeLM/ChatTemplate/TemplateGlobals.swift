import Foundation

/// The functions every chat template can call: Jinja's `range`, `namespace` and `dict`, plus
/// transformers' `raise_exception` and `strftime_now`.
enum TemplateGlobals {
    nonisolated(unsafe) static let builtins: [String: TemplateValue] = [
        "raise_exception": .function(TemplateFunction(name: "raise_exception") { arguments, _, _ throws(TemplateError) in
            throw .raised(arguments.first?.printed ?? "")
        }),
        "namespace": .function(TemplateFunction(name: "namespace") { arguments, keywords, _ in
            var attributes = OrderedStringDictionary<TemplateValue>()
            if case .dictionary(let initial)? = arguments.first { attributes = initial }
            for (key, value) in keywords.entries { attributes[key] = value }
            return .namespace(TemplateValue.Namespace(attributes))
        }),
        "dict": .function(TemplateFunction(name: "dict") { arguments, keywords, _ in
            var result = OrderedStringDictionary<TemplateValue>()
            if case .dictionary(let initial)? = arguments.first { result = initial }
            for (key, value) in keywords.entries { result[key] = value }
            return .dictionary(result)
        }),
        "range": .function(TemplateFunction(name: "range") { arguments, _, position throws(TemplateError) in
            let bounds = arguments.compactMap(\.integer)
            guard bounds.count == arguments.count, (1...3).contains(bounds.count) else {
                throw .runtime("range() takes one to three integers", at: position)
            }
            let start = bounds.count > 1 ? bounds[0] : 0
            let stop = bounds.count > 1 ? bounds[1] : bounds[0]
            let step = bounds.count > 2 ? bounds[2] : 1
            guard step != 0 else { throw .runtime("range() arg 3 must not be zero", at: position) }
            return .list(Array(stride(from: start, to: stop, by: step)).map { .int($0) })
        }),
        "strftime_now": .function(TemplateFunction(name: "strftime_now") { arguments, _, _ in
            .string(strftime(arguments.first?.printed ?? "", Date()))
        }),
    ]

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
