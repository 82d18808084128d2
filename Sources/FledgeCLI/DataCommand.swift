import ArgumentParser
import Foundation
import FledgeRL

/// `fledge data …`: look at a dataset as training reads it.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Show a dataset's rows, splits and columns (Hub dataset ids, Parquet, Arrow, JSON, CSV files or dataset folders).",
        subcommands: [DataShowCommand.self, DataInfoCommand.self])
}

/// The dataset arguments `data show` and `data info` share: `dataset_name` and `dataset_config`.
struct DatasetArguments: ParsableArguments {
    @Argument(help: "A Hub dataset id (org/name or org/name@revision), a data file (.parquet, .arrow, .jsonl, .json, .csv) or a dataset folder, as dataset_name takes it.")
    var dataset: String

    @Option(help: "The config (a README.md configs: entry), as dataset_config takes it.")
    var config: String?

    func repository() throws -> DatasetRepository {
        try DatasetLocation.resolve(dataset, config: config)
    }
}

/// `fledge data show DATASET`: the rows of a split.
struct DataShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Print the rows of a split.",
        discussion: """
            With --json, prints one JSON object per line and nothing else: every row as Python's \
            json.dumps(row, ensure_ascii=False) prints what pyarrow's to_pylist() or datasets' to_list() \
            gives, columns in the file's order.
            """)

    @OptionGroup var dataset: DatasetArguments

    @Option(help: "The split (default: train when there is one, else the first).")
    var split: String?

    @Option(help: "Print at most this many rows (default: 10, or every row with --json).")
    var rows: Int?

    @Flag(help: "One JSON object per row, one row per line.")
    var json = false

    func validate() throws {
        if let rows, rows < 0 { throw ValidationError("--rows must be 0 or more") }
    }

    func run() throws {
        let repository = try dataset.repository()
        let name = split ?? (repository.splitNames.contains("train") ? "train" : repository.splitNames[0])
        let rows = try repository.split(name).rows.prefix(self.rows ?? (json ? .max : 10))
        if json {
            let writer = JSONWriter()
            for row in rows { print(writer.string(.object(row))) }
            return
        }
        let writer = JSONWriter(indent: 2)
        for (index, row) in rows.enumerated() {
            print("row \(index + 1): " + writer.string(.object(row)))
        }
    }
}

/// `fledge data info DATASET`: the splits with their files, row counts and columns.
struct DataInfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Print a dataset's config, splits, files, row counts, columns and types.")

    @OptionGroup var dataset: DatasetArguments

    func run() throws {
        let repository = try dataset.repository()
        print("dataset: \(repository.location.path)" + (repository.config.map { " (config \($0))" } ?? ""))
        for split in repository.splits {
            let summaries = try split.files.map(DataFileSummary.init)
            let count = summaries.map(\.rowCount).reduce(0, +)
            print("split \(split.name): \(count) \(count == 1 ? "row" : "rows") in \(split.files.count) "
                + (split.files.count == 1 ? "file" : "files"))
            for file in split.files { print("  file: \(file.path)") }
            for column in summaries[0].columns { print("  column \(column.name): \(column.type)") }
        }
    }
}
