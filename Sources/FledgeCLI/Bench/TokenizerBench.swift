import ArgumentParser
import FledgeLM
import Foundation

/// `fledge bench tokenizer`: load time and encode throughput, as `Scripts/bench/tokenizer_bench.py` measures the Rust library.
struct TokenizerBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Time loading a tokenizer and encoding every line of a text file (one thread).")

    @Option(name: .long, help: "Directory with tokenizer.json.")
    var model: String

    @Option(name: .long, help: "Text file; each line is encoded separately.")
    var text: String

    @Option(name: .long, help: "Timed repetitions (the best is reported).")
    var repeats = 3

    @Flag(name: .long, help: "Print one JSON line instead of text.")
    var json = false

    func run() throws {
        var loadSeconds: [Double] = []
        var tokenizer: Tokenizer? = nil
        for _ in 0..<repeats {
            let start = DispatchTime.now()
            tokenizer = try Tokenizer(directory: model)
            loadSeconds.append(Self.seconds(since: start))
        }
        let lines = try TextSupport.lines(of: text)
        let bytes = lines.reduce(0) { $0 + $1.utf8.count }
        var tokens = 0
        var checksum = 0
        var encodeSeconds: [Double] = []
        for pass in 0...repeats {
            // Pass 0 starts with an empty cache of encoded words; the others run with it filled.
            let fresh = pass == 0 ? try Tokenizer(directory: model) : tokenizer!
            let start = DispatchTime.now()
            var count = 0
            var sum = 0
            for line in lines {
                let ids = fresh.encode(line)
                count += ids.count
                for id in ids { sum &+= id }
            }
            encodeSeconds.append(Self.seconds(since: start))
            (tokens, checksum) = (count, sum)
        }
        let warm = encodeSeconds.dropFirst().min()!
        report([
            "vocab_size": tokenizer!.vocabularySize, "load_seconds": loadSeconds.min()!, "lines": lines.count, "bytes": bytes,
            "tokens": tokens, "id_sum": checksum, "encode_cold_seconds": encodeSeconds[0], "encode_warm_seconds": warm,
            "encode_cold_mb_per_s": Double(bytes) / 1e6 / encodeSeconds[0], "encode_warm_mb_per_s": Double(bytes) / 1e6 / warm,
        ], json: json)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
