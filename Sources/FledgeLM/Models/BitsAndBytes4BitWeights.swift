import FledgeTensor

/// The 4-bit linear weights of a safetensors file that transformers saved for a model quantized by
/// bitsandbytes (`BitsAndBytesConfig(load_in_4bit=True, …)`, then `save_pretrained`), read into
/// Fledge's NF4/FP4 blocks as they are: no requantization, the same floats as bitsandbytes'
/// `dequantize_4bit` in float32.
///
/// Such a weight `W` is stored as `W` (uint8, two 4-bit codes a byte, the flattened `[out, in]`
/// weight's first value in the high nibble) beside its quant_state: `W.quant_state.bitsandbytes__nf4`
/// (or `__fp4`: JSON as uint8 bytes with `quant_type`, `blocksize`, `dtype`, `shape`, and with nested
/// statistics `nested_blocksize` and `nested_offset`), `W.quant_map` (the 16-value codebook),
/// `W.absmax` (one float32 per block of 64; with nested statistics one uint8 code, decoded with
/// `W.nested_absmax`, one float32 per 256 codes, and `W.nested_quant_map`, the 8-bit dynamic map;
/// Fledge keeps those compressed too, `NestedAbsmaxRows`).
/// Anything else — another block size or codebook, codes stored in another dtype, missing or
/// misshapen pieces — is an error naming the tensor.
struct BitsAndBytes4BitWeights {
    /// The weights by name (`…q_proj.weight`), each `[out, in]`.
    private(set) var matrices: [String: QuantizedMatrix] = [:]
    /// The quant_state tensors those weights were read from (not parameters of their own).
    private(set) var stateTensors: Set<String> = []

    private static let statePrefix = ".quant_state.bitsandbytes__"

    /// Reads every bitsandbytes 4-bit weight in `file` (none when it has no quant_state tensor).
    init(_ file: SafeTensorsFile) throws {
        if let scale = file.names.first(where: { $0.hasSuffix(".SCB") }) {
            throw ModelError.invalidFile(path: file.url.path, problem: "holds '\(scale)', a bitsandbytes 8-bit (LLM.int8) weight, which "
                + "Fledge does not read: use the unquantized model (load_in_8bit quantizes it to Fledge's int8 blocks as it loads)")
        }
        for stateName in file.names {
            guard let marker = stateName.range(of: Self.statePrefix) else { continue }
            let weight = String(stateName[..<marker.lowerBound])
            let reader = Reader(file: file, weight: weight, stateName: stateName)
            matrices[weight] = try reader.matrix(quantType: String(stateName[marker.upperBound...]))
            stateTensors.formUnion(reader.consumed.subtracting([weight]))
        }
    }

    /// One weight's tensors, read and checked.
    private final class Reader {
        let file: SafeTensorsFile
        let weight: String
        let stateName: String
        private(set) var consumed: Set<String> = []

        init(file: SafeTensorsFile, weight: String, stateName: String) {
            self.file = file
            self.weight = weight
            self.stateName = stateName
        }

        func invalid(_ tensor: String, _ problem: String) -> ModelError {
            .invalidFile(path: file.url.path, problem: "tensor '\(tensor)' \(problem) (a bitsandbytes 4-bit weight as transformers' "
                + "save_pretrained writes it is expected; save it again with bitsandbytes, or save the model unquantized)")
        }

        func matrix(quantType suffix: String) throws -> QuantizedMatrix {
            let state = try stateJSON()
            func field(_ key: String) -> JSONValue? { state[key] }
            func shown(_ key: String) -> String { field(key).map { JSONWriter().string($0) } ?? "missing" }
            guard case .string(let quantType) = field("quant_type"), quantType == suffix,
                  let format = [QuantizationFormat.nf4, .fp4].first(where: { $0.rawValue == quantType }) else {
                throw invalid(stateName, "has quant_type \(shown("quant_type")); expected \"\(suffix)\" "
                    + "(nf4 or fp4, as its name says)")
            }
            guard field("blocksize") == .int(64) else {
                throw invalid(stateName, "has blocksize \(shown("blocksize")); Fledge reads blocks of 64 "
                    + "(bitsandbytes' default)")
            }
            guard case .array(let dims) = field("shape"), dims.count == 2, case .int(let rows) = dims[0], case .int(let columns) = dims[1],
                  rows > 0, columns > 0, !rows.multipliedReportingOverflow(by: columns).overflow else {
                throw invalid(stateName, "has shape \(shown("shape")); expected [out_features, in_features]")
            }
            guard columns % 64 == 0 else {
                throw invalid(weight, "has rows of \(columns) values, not a whole number of blocks of 64, which Fledge's blocks need")
            }
            let blocks = rows * columns / 64
            let packed = try bytes(weight, count: blocks * 32)
            try checkMap(weight + ".quant_map", equals: format.fourBitCodebook)
            let absmax: [Float]
            var nestedAbsmax: NestedAbsmax? = nil
            if let nested = field("nested_blocksize") {
                guard nested == .int(NestedAbsmax.blockSize) else {
                    throw invalid(stateName, "has nested_blocksize \(shown("nested_blocksize")); Fledge reads nested blocks of \(NestedAbsmax.blockSize)")
                }
                let offset: Double? = switch field("nested_offset") {
                case .double(let value): value
                case .int(let value): Double(value)
                default: nil
                }
                guard let offset, offset.isFinite else {
                    throw invalid(stateName, "has nested_blocksize but no numeric nested_offset")
                }
                let codes = try bytes(weight + ".absmax", count: blocks)
                let scales = try floats(weight + ".nested_absmax", count: (blocks + NestedAbsmax.blockSize - 1) / NestedAbsmax.blockSize)
                try checkMap(weight + ".nested_quant_map", equals: DynamicQuantization.code)
                let stored = try NestedAbsmax(codes: codes, scales: scales, offset: Float(offset))
                nestedAbsmax = stored
                absmax = stored.absmax
            } else {
                absmax = try floats(weight + ".absmax", count: blocks)
            }
            if let bad = absmax.firstIndex(where: { !$0.isFinite || $0 < 0 }) {
                throw invalid(weight + ".absmax", "decodes to \(absmax[bad]) for block \(bad); an absmax is finite and not negative")
            }
            if let nestedAbsmax {
                return try QuantizedMatrix(format: format, rows: rows, columns: columns, packed: packed, nestedAbsmax: nestedAbsmax, name: weight)
            }
            let block = format.blockFormat as! any BitsAndBytes4BitFormat.Type
            return try QuantizedMatrix(format: format, rows: rows, columns: columns, blocks: block.blocks(packed: packed, absmax: absmax),
                                       name: weight)
        }

        private func stateJSON() throws -> JSONObject {
            let bytes = try self.bytes(stateName, count: nil)
            guard let text = String(validating: bytes, as: UTF8.self), let value = try? JSONParser.parse(Array(text.utf8)),
                  case .object(let object) = value else {
                throw invalid(stateName, "is not a JSON object in UTF-8 bytes")
            }
            return object
        }

        /// The U8 tensor `name`'s bytes, `count` of them when given.
        private func bytes(_ name: String, count: Int?) throws -> [UInt8] {
            let info = try self.info(name)
            guard info.dtype == .uint8 else {
                throw invalid(name, "has dtype \(info.dtype.rawValue); expected U8 (bnb_4bit_quant_storage uint8, the default)")
            }
            if let count, info.count != count { throw invalid(name, "has \(info.count) bytes; the quant_state's shape needs \(count)") }
            return try file.uint8s(name)
        }

        /// The F32 tensor `name`'s values; `count` of them.
        private func floats(_ name: String, count: Int) throws -> [Float] {
            let info = try self.info(name)
            guard info.dtype == .float32 else { throw invalid(name, "has dtype \(info.dtype.rawValue); expected F32") }
            guard info.count == count else { throw invalid(name, "has \(info.count) values; the quant_state's shape needs \(count)") }
            return try file.tensor(name).toArray()
        }

        private func checkMap(_ name: String, equals expected: [Float]) throws {
            let values = try floats(name, count: expected.count)
            guard values.map(\.bitPattern) == expected.map(\.bitPattern) else {
                throw invalid(name, "is not bitsandbytes' standard map (a custom map is not supported)")
            }
        }

        private func info(_ name: String) throws -> SafeTensorInfo {
            consumed.insert(name)
            guard let info = file.info(name) else { throw invalid(name, "is missing; \(stateName) needs it") }
            return info
        }
    }
}

extension QuantizationFormat {
    /// The 16-value codebook of NF4 and FP4 (bitsandbytes' `quant_map`); empty for the other formats.
    var fourBitCodebook: [Float] {
        (blockFormat as? any BitsAndBytes4BitFormat.Type)?.codebook ?? []
    }
}
