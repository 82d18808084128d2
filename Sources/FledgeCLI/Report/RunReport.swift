import Foundation
import FledgePlot
import FledgeRL

/// `fledge report`'s page: one self-contained HTML file (inline SVG charts, CSS and a little script;
/// nothing loaded from elsewhere) with a run's effective config, its metric charts, its evaluation
/// results and a browsable table of its logged completions (in that order after the headline numbers,
/// so that the top of the page shows a run at a glance).
struct RunReport {
    let directory: URL
    /// The newest completion lines the table holds at most (a long run logs many more).
    static let completionLimit = 5000

    /// The page, from the run directory's `metrics.jsonl`, `config.resolved.yaml` and `completions.jsonl`
    /// (each optional but the metrics).
    func html() throws -> String {
        let name = directory.standardizedFileURL.lastPathComponent
        let records = try MetricsLog.read(directory.appendingPathComponent(MetricsLog.fileName))
        var sections = [summary(records)]
        sections.append(section("Evaluation", id: "evaluation", body: evaluation(records)))
        sections.append(section("Completions", id: "completions", body: try completions()))
        sections.append(section("Metrics", id: "charts", body: try charts(records, title: name)))
        sections.append(section("Config", id: "config", body: config()))
        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(MarkupText.escaped(name)) · fledge report</title>
            <style>\(Self.style)</style></head>
            <body><h1>\(MarkupText.escaped(name))</h1>
            <p class="note">Run directory \(MarkupText.escaped(directory.standardizedFileURL.path)), written by <code>fledge report</code>.</p>
            \(sections.joined(separator: "\n"))
            <script>\(Self.script)</script>
            </body></html>

            """
    }

    private func section(_ title: String, id: String, body: String) -> String {
        "<section id=\"\(id)\"><h2>\(title)</h2>\n\(body)\n</section>"
    }

    /// The last training record's headline numbers.
    private func summary(_ records: [MetricRecord]) -> String {
        guard let last = records.last(where: { !$0.values.keys.contains { $0.hasPrefix("eval_") } }) else {
            return "<p>No training step logged yet.</p>"
        }
        let shown = ["step", "epoch", "loss", "reward", "reward_std", "kl", "entropy", "completions/mean_length", "elapsed_seconds"]
        let cells = shown.compactMap { name in last[name].map { "<div class=\"stat\"><span>\(name)</span><b>\(format($0))</b></div>" } }
        return "<div class=\"stats\">\(cells.joined())</div>"
    }

    private func charts(_ records: [MetricRecord], title: String) throws -> String {
        do {
            return SVGRenderer.render(ChartLayout().scene(try Chart(records: records, title: title)))
        } catch {
            return "<p>No chart: \(MarkupText.escaped("\(error)"))</p>"
        }
    }

    /// A table of every evaluation: its step and its `eval_*` metrics.
    private func evaluation(_ records: [MetricRecord]) -> String {
        let evaluations = records.filter { $0.values.keys.contains { $0.hasPrefix("eval_") } }
        guard !evaluations.isEmpty else { return "<p>No evaluation in this run (set <code>eval_strategy</code>).</p>" }
        let names = Set(evaluations.flatMap { $0.values.keys.filter { $0.hasPrefix("eval_") } }).sorted()
        let header = "<tr><th>step</th>" + names.map { "<th>\(MarkupText.escaped(String($0.dropFirst(5))))</th>" }.joined() + "</tr>"
        let rows = evaluations.map { record in
            "<tr><td>\(record["step"].map(format) ?? "")</td>" + names.map { "<td>\(record[$0].map(format) ?? "")</td>" }.joined() + "</tr>"
        }
        return "<div class=\"scroll\"><table id=\"evaluation-table\">\(header)\(rows.joined())</table></div>"
    }

    /// The logged completions with a step filter and a text search.
    private func completions() throws -> String {
        let url = directory.appendingPathComponent(CompletionLogFile.name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            return "<p>No completions logged (set <code>log_completions: true</code>).</p>"
        }
        let all = try CompletionLogFile.read(url)
        let entries = all.suffix(Self.completionLimit)
        let steps = Array(Set(entries.map(\.step))).sorted()
        let options = ["<option value=\"\">every step</option>"] + steps.map { "<option value=\"\($0)\">step \($0)</option>" }
        let names = entries.first?.completion.rewardNames ?? []
        let header = "<tr><th>step</th><th>prompt</th><th>completion</th>"
            + names.map { "<th>\(MarkupText.escaped($0))</th>" }.joined() + "<th>advantage</th><th>length</th></tr>"
        let rows = entries.map { step, completion in
            let prompt: String
            switch completion.prompt {
            case .string(let text): prompt = text
            default: prompt = JSONWriter().string(completion.prompt)
            }
            let rewards = completion.rewards.map { "<td>\($0.map(format) ?? "–")</td>" }.joined()
            return "<tr data-step=\"\(step)\"><td>\(step)</td><td class=\"text\">\(MarkupText.escaped(prompt))</td>"
                + "<td class=\"text\">\(MarkupText.escaped(completion.completion))</td>\(rewards)<td>\(completion.advantage.map(format) ?? "–")</td>"
                + "<td>\(completion.length)\(completion.clipped ? " ✂" : "")</td></tr>"
        }
        let cut = all.count > entries.count ? " (the newest \(entries.count) of \(all.count))" : ""
        return """
            <p class="note">\(entries.count) completions\(cut); ✂ marks one clipped at max_completion_length.</p>
            <div class="controls"><select id="step-filter">\(options.joined())</select>
            <input id="text-filter" type="search" placeholder="search prompts and completions"> <span id="shown-count"></span></div>
            <div class="scroll tall"><table id="completions-table">\(header)\(rows.joined(separator: "\n"))</table></div>
            """
    }

    private func config() -> String {
        let url = directory.appendingPathComponent(ResolvedConfigFile.name)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return "<p>No \(ResolvedConfigFile.name) in the run.</p>" }
        return "<p class=\"note\">Every field with the value the run used (defaults resolved; derived values as comments).</p>"
            + "<pre>\(MarkupText.escaped(text))</pre>"
    }

    private func format(_ value: Double) -> String {
        if value == value.rounded() && abs(value) < 1e9 { return String(Int(value)) }
        return abs(value) >= 1e-3 && abs(value) < 1e6 ? String(format: "%.4g", value) : String(format: "%.3e", value)
    }

    private static let style = """
        body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1200px;padding:0 16px;color:#1d2430}
        h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #dde2ea}
        .note{color:#5b6575;margin:4px 0}.stats{display:flex;flex-wrap:wrap;gap:8px}
        .stat{background:#f2f5f9;border-radius:6px;padding:6px 10px}.stat span{display:block;color:#5b6575;font-size:12px}
        table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #dde2ea;padding:3px 6px;text-align:right;vertical-align:top}
        th{background:#f2f5f9;position:sticky;top:0}td.text{text-align:left;white-space:pre-wrap;max-width:420px;font-family:ui-monospace,monospace}
        .scroll{overflow:auto}.tall{max-height:360px}.controls{margin:6px 0}pre{background:#f7f8fa;padding:10px;overflow:auto;font-size:12px}
        svg{max-width:100%;height:auto}
        """

    private static let script = """
        (function(){var s=document.getElementById('step-filter'),t=document.getElementById('text-filter'),
        c=document.getElementById('shown-count');if(!s)return;var rows=Array.prototype.slice.call(
        document.querySelectorAll('#completions-table tr[data-step]'));function apply(){var step=s.value,
        q=t.value.toLowerCase(),n=0;rows.forEach(function(r){var ok=(!step||r.getAttribute('data-step')===step)&&
        (!q||r.textContent.toLowerCase().indexOf(q)>=0);r.style.display=ok?'':'none';if(ok)n++;});
        c.textContent=n+' shown';}s.addEventListener('change',apply);t.addEventListener('input',apply);apply();})();
        """
}
