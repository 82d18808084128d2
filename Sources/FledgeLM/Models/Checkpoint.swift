import Foundation
import FledgeNN
import FledgeTensor

/// The safetensors files of a model directory — `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json` — from which the architecture takes its tensors by name.
///
/// Taking a tensor checks its shape; `finish()` then reports every missing, misshapen and
/// unused tensor in one error, so a mismatched directory is diagnosed in one run.
final class Checkpoint {
    let directory: URL
    private var files: [String: SafeTensorsFile] = [:]
    private var location: [String: String] = [:]
    private var inMemory: [String: Tensor] = [:]
    /// Linear weights kept in their block format (a GGUF file's Q8_0, Q4_0, Q4_K matrices).
    private var quantized: [String: QuantizedMatrix] = [:]
    private var taken: Set<String> = []
    private var missing: [String] = []
    private var misshapen: [String] = []
    /// Tensors that may be present and are not needed (rotary buffers of old checkpoints, a
    /// duplicated tied head).
    private var ignorable: [(String) -> Bool] = [{ $0.hasSuffix("rotary_emb.inv_freq") }]

    init(directory: URL) throws {
        self.directory = directory
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        if FileManager.default.fileExists(atPath: single.path) {
            try open("model.safetensors")
        } else if FileManager.default.fileExists(atPath: index.path) {
            let object: JSONValue
            do {
                object = try JSONParser.parse(Array(try Data(contentsOf: index)))
            } catch {
                throw ModelError.invalidFile(path: index.path, problem: "is not valid JSON (\(error))")
            }
            let noWeightMap = ModelError.invalidFile(path: index.path, problem: "has no 'weight_map' object of tensor name to shard file")
            guard case .object(let weightMap) = object["weight_map"] else { throw noWeightMap }
            var map: [String: String] = [:]
            for (name, shard) in weightMap.entries {
                guard case .string(let file) = shard else { throw noWeightMap }
                map[name] = file
            }
            for shard in Set(map.values).sorted() { try open(shard) }
            for (name, shard) in map where files[shard]?.info(name) == nil {
                throw ModelError.invalidFile(path: index.path, problem: "lists tensor '\(name)' in \(shard), which does not hold it")
            }
        } else {
            throw ModelError.missingFile(
                path: single.path,
                hint: "a model directory needs model.safetensors or model.safetensors.index.json with its shards "
                    + "(PyTorch .bin checkpoints are not supported: save the model with safe_serialization=True)")
        }
    }

    /// Tensors already in memory (a benchmark's random weights, a GGUF file's), named as in a
    /// checkpoint; `quantized` holds linear weights kept in a block format (`takeQuantized`).
    init(tensors: [String: Tensor], quantized: [String: QuantizedMatrix] = [:], description: String) {
        directory = URL(fileURLWithPath: description)
        inMemory = tensors
        self.quantized = quantized
        for name in tensors.keys { location[name] = "" }
        for name in quantized.keys { location[name] = "" }
    }

    /// Adds a tensor the files lack (a newly initialised head), taken like the others.
    func add(_ name: String, _ tensor: Tensor) {
        inMemory[name] = tensor
        location[name] = ""
    }

    private func open(_ name: String) throws {
        let url = directory.appendingPathComponent(name)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.missingFile(path: url.path, hint: "the shard index lists it; download the missing shard")
        }
        let file = try SafeTensorsFile(url: url)
        files[name] = file
        for tensor in file.names { location[tensor] = name }
    }

    var names: [String] { location.keys.sorted() }

    func contains(_ name: String) -> Bool { location[name] != nil }

    /// Allows `name` to be present and unused.
    func ignore(_ name: String) { ignorable.append { $0 == name } }

    /// The tensor called `name`, which must have `shape`; a `Tensor.placeholder` (recorded as
    /// missing or misshapen) when it is absent or wrong, so that loading goes on and reports everything.
    func take(_ name: String, _ shape: [Int]) throws -> Tensor {
        if let matrix = quantized[name] {
            taken.insert(name)
            guard matrix.shape == shape else {
                misshapen.append("\(name) is \(matrix.shape), expected \(shape)")
                return Tensor.placeholder(shape)
            }
            return matrix.dequantized()
        }
        if let tensor = inMemory[name] {
            taken.insert(name)
            guard tensor.shape == shape else {
                misshapen.append("\(name) is \(tensor.shape), expected \(shape)")
                return Tensor.placeholder(shape)
            }
            return tensor
        }
        guard let fileName = location[name], let file = files[fileName], let info = file.info(name) else {
            missing.append(name)
            return Tensor.placeholder(shape)
        }
        taken.insert(name)
        guard info.shape == shape else {
            misshapen.append("\(name) is \(info.shape), expected \(shape)")
            return Tensor.placeholder(shape)
        }
        return try file.tensor(name)
    }

    /// The block-quantized weight called `name` (a linear layer's) when the checkpoint keeps it so
    /// with `shape`, taken; nil otherwise (then `take` it, which dequantizes or reports it misshapen).
    func takeQuantized(_ name: String, _ shape: [Int]) -> QuantizedMatrix? {
        guard let matrix = quantized[name], matrix.shape == shape else { return nil }
        taken.insert(name)
        return matrix
    }

    /// Throws `ModelError.weightMismatch` if any tensor was missing or misshapen, or is unused.
    func finish() throws {
        let unused = names.filter { name in !taken.contains(name) && !ignorable.contains { $0(name) } }
        guard missing.isEmpty, misshapen.isEmpty, unused.isEmpty else {
            throw ModelError.weightMismatch(directory: directory.path, missing: missing, misshapen: misshapen, unused: unused)
        }
    }
}
