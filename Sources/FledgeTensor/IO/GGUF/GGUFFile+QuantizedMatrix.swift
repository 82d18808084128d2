extension GGUFFile {
    /// The matrix called `name` with the file's blocks copied as they are (no dequantizing), when
    /// its type has a `GGMLType.quantizationFormat` and it has two dimensions; nil otherwise (read
    /// it with `tensor(_:)`). Its rows are the file's rows (`shape[0]`), each a whole number of
    /// blocks, as GGML lays them out.
    public func quantizedMatrix(_ name: String) throws(GGUFError) -> QuantizedMatrix? {
        guard let info = info(name) else { throw .tensorNotFound(file: url.path, tensor: name) }
        guard let format = info.type.quantizationFormat, info.dimensions.count == 2 else { return nil }
        let blocks = [UInt8](data(of: info))
        do {
            return try QuantizedMatrix(format: format, rows: info.shape[0], columns: info.shape[1], blocks: blocks, name: name)
        } catch {
            throw .invalidTensor(file: url.path, tensor: name, problem: error.description)
        }
    }
}
