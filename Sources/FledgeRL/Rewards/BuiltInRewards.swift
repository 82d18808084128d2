import Foundation
import FledgeHub

/// The reward functions a config names in `reward_funcs` (each `NAME` or `NAME:ARGUMENT`) and
/// `reward_command`:
///
/// - `answer` / `answer:COLUMN`: answer correctness against the dataset column (default `answer`);
/// - `format` / `format:REGEX`: 1 when the completion matches (default `<think>…</think><answer>…</answer>`);
/// - `length:TARGET`: −|tokens − TARGET| / TARGET; `length`: −tokens / `max_completion_length`;
/// - `soft_overlong` / `soft_overlong:CACHE` / `soft_overlong:MAX,CACHE`: DAPO's soft overlong
///   punishment (MAX defaults to `max_completion_length`, CACHE to a fifth of it, DAPO's proportion);
/// - `model:DIRECTORY` (or a directory path alone): a sequence-classification reward model;
/// - TRL's names `accuracy_reward` (answer against the `solution` column) and `think_format_reward`.
public enum BuiltInRewards {
    /// The names `reward_funcs` accepts.
    public static let names = ["answer", "format", "length", "soft_overlong", "model", "accuracy_reward",
                               "think_format_reward"]

    /// The reward functions of a resolved GRPO or RLOO config: `reward_model_name_or_path`, `reward_funcs`
    /// in order, then `reward_command` (started here); throws when there are none or one cannot be made.
    public static func make<Config: GroupSamplingConfig>(config: Config) throws -> [any RewardFunction] {
        let functions = try make(run: config.run, maxCompletionLength: config.generation.maxCompletionLength,
                                 chatTemplateVariables: config.generation.chatTemplateKwargs?.jsonObject ?? JSONObject())
        guard !functions.isEmpty else {
            throw RewardError("\(Config.trainer.rawValue.uppercased()) needs at least one reward: set reward_funcs "
                + "(\(names.joined(separator: ", "))), reward_model_name_or_path or reward_command")
        }
        return functions
    }

    /// The reward functions `run` names (the reward model of `reward_model_name_or_path` first, as TRL's
    /// `grpo` and `rloo` scripts order them, then `reward_funcs` in order, then `reward_command`, started
    /// here), possibly none; `maxCompletionLength` is the longest completion the length rewards measure
    /// against, `chatTemplateVariables` the variables a reward model's chat template gets. Throws when one
    /// cannot be made or two share a name.
    public static func make(run: RunArguments, maxCompletionLength: Int,
                            chatTemplateVariables: JSONObject = JSONObject()) throws -> [any RewardFunction] {
        var functions: [any RewardFunction] = []
        if let path = run.rewardModelNameOrPath {
            let directory: URL
            do {
                directory = try ModelLocation.resolve(path)
            } catch {
                throw RewardError("reward_model_name_or_path \(path): \(error)")
            }
            functions.append(try RewardModelReward(directory: directory, chatTemplateVariables: chatTemplateVariables))
        }
        functions += try (run.rewardFuncs ?? []).map {
            try make($0, maxCompletionLength: maxCompletionLength, chatTemplateVariables: chatTemplateVariables)
        }
        if let command = run.rewardCommand {
            guard run.rewardCommandTimeout > 0 else {
                throw RewardError("reward_command_timeout is \(run.rewardCommandTimeout); set a positive number of seconds")
            }
            functions.append(try RewardCommand(command: command, timeout: run.rewardCommandTimeout))
        }
        let names = functions.map(\.name)
        if let repeated = names.first(where: { name in names.filter { $0 == name }.count > 1 }) {
            throw RewardError("two reward functions are named '\(repeated)'; their metrics would collide — keep one")
        }
        return functions
    }

    /// The built-in reward function `spec` names.
    public static func make(_ spec: String, maxCompletionLength: Int,
                            chatTemplateVariables: JSONObject = JSONObject()) throws -> any RewardFunction {
        let name = spec.prefix { $0 != ":" }.trimmingCharacters(in: .whitespaces)
        let argument = spec.contains(":") ? String(spec[spec.index(after: spec.firstIndex(of: ":")!)...]) : nil
        func numbers(_ text: String) throws -> [Int] {
            let values = text.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !values.isEmpty, values.allSatisfy({ ($0 ?? -1) >= 0 }) else {
                throw RewardError("reward_funcs entry '\(spec)': '\(text)' is not a list of token counts")
            }
            return values.map { $0! }
        }
        switch name {
        case "answer":
            return AnswerReward(column: argument ?? "answer")
        case "accuracy_reward":
            return AnswerReward(column: argument ?? "solution", name: "accuracy_reward")
        case "format":
            return try FormatReward(pattern: argument ?? FormatReward.thinkThenAnswer)
        case "think_format_reward":
            return try FormatReward(pattern: #"^<think>(?!.*<think>)(.*?)</think>.*$"#, name: "think_format_reward")
        case "length":
            guard let argument else { return LengthReward(goal: .shorter(maxLength: maxCompletionLength)) }
            let target = try numbers(argument)
            guard target.count == 1, target[0] > 0 else {
                throw RewardError("reward_funcs entry '\(spec)': give one positive target length, e.g. length:200")
            }
            return LengthReward(goal: .target(tokens: target[0]))
        case "soft_overlong":
            let values = try argument.map(numbers) ?? []
            guard values.count <= 2 else {
                throw RewardError("reward_funcs entry '\(spec)': give soft_overlong:CACHE or soft_overlong:MAX,CACHE")
            }
            let maxLength = values.count == 2 ? values[0] : maxCompletionLength
            let cache = values.last ?? maxLength / 5
            guard cache <= maxLength else {
                throw RewardError("reward_funcs entry '\(spec)': the cache (\(cache)) must not exceed the maximum length (\(maxLength))")
            }
            return SoftOverlongPunishment(maxLength: maxLength, cache: cache)
        case "model":
            guard let argument, !argument.isEmpty else {
                throw RewardError("reward_funcs entry '\(spec)': give the reward model's directory, e.g. model:models/rm")
            }
            return try RewardModelReward(directory: URL(fileURLWithPath: argument), chatTemplateVariables: chatTemplateVariables)
        default:
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: spec, isDirectory: &isDirectory), isDirectory.boolValue {
                return try RewardModelReward(directory: URL(fileURLWithPath: spec), chatTemplateVariables: chatTemplateVariables)
            }
            let hint = NearestName.suggestion(for: name, among: names).map { "did you mean \($0)? " } ?? ""
            throw RewardError("reward_funcs entry '\(spec)' is not a built-in reward function or a reward model "
                + "directory; \(hint)built-in ones: \(names.joined(separator: ", "))")
        }
    }
}
