/// A malformed or unsupported structure inside a data file, before the reader adds where it is (file,
/// row group, column, page, batch); readers turn it into a ``DatasetError``.
struct DataFormatError: Error {
    let message: String

    init(_ message: String) { self.message = message }
}
