import Foundation
import FledgeNN
import FledgeTensor

/// The safetensors files of a model directory — `model.safetensors`, or the shards listed in
/// `model.safetensors.index.json` — from which the architecture takes its tensors by name.
///
/// Loading first `expect`s every tensor with its shape; `finish()` then reports every missing,
/// misshapen and unused tensor in one error, so a mismatched directory is diagnosed in one run,
/// before any tensor is read.
final class Checkpoint {
    let directory: URL
    private var files: [String: SafeTensorsFile] = [:]
    private var location: [String: String] = [:]
    /// Tensors made when they are read (a benchmark's random weights, a GGUF file's decoded
    /// tensors, tensors already in memory), dropped once read.
    private var deferred: [String: DeferredTensor] = [:]
    /// Linear weights kept in their block format (a GGUF file's Q8_0, Q4_0, Q4_K matrices, a
    /// bitsandbytes checkpoint's NF4 and FP4 weights).
    private var quantized: [String: QuantizedMatrix] = [:]
    private var expected: Set<String> = []
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

    /// Tensors already in memory, named as in a checkpoint.
    convenience init(tensors: [String: Tensor], description: String) {
        self.init(deferred: tensors.mapValues { tensor in DeferredTensor(shape: tensor.shape) { tensor } }, description: description)
    }

    /// Tensors made when they are read (`deferred`: a benchmark's random weights, a GGUF file's
    /// tensors decoded one at a time), named as in a checkpoint; `quantized` holds linear weights
    /// kept in a block format (`storedQuantized`).
    init(deferred: [String: DeferredTensor], quantized: [String: QuantizedMatrix] = [:], description: String) {
        directory = URL(fileURLWithPath: description)
        self.deferred = deferred
        self.quantized = quantized
        for name in deferred.keys { location[name] = "" }
        for name in quantized.keys { location[name] = "" }
    }

    /// Adds a tensor the files lack (a newly initialised head), read like the others.
    func add(_ name: String, _ tensor: Tensor) {
        deferred[name] = DeferredTensor(shape: tensor.shape) { tensor }
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
        let fourBit = try BitsAndBytes4BitWeights(file)
        quantized.merge(fourBit.matrices) { first, _ in first }
        ignorable.append { fourBit.stateTensors.contains($0) }
    }

    var names: [String] { location.keys.sorted() }

    func contains(_ name: String) -> Bool { location[name] != nil }

    /// Allows `name` to be present and unused.
    func ignore(_ name: String) { ignorable.append { $0 == name } }

    /// Records `name` as needed with `shape`: missing when the checkpoint lacks it, misshapen when
    /// its shape differs (reported together by `finish()`). Reads nothing.
    func expect(_ name: String, _ shape: [Int]) {
        guard let stored = storedShape(name) else {
            missing.append(name)
            return
        }
        expected.insert(name)
        if stored != shape { misshapen.append("\(name) is \(stored), expected \(shape)") }
    }

    private func storedShape(_ name: String) -> [Int]? {
        if let matrix = quantized[name] { return matrix.shape }
        if let tensor = deferred[name] { return tensor.shape }
        guard let fileName = location[name], let info = files[fileName]?.info(name) else { return nil }
        return info.shape
    }

    /// The tensor called `name` (`expect`ed, and `finish()`ed without error) in float32: a block-
    /// quantized one dequantized, a deferred one made (and then forgotten).
    func read(_ name: String) throws -> Tensor {
        if let matrix = quantized[name] { return matrix.dequantized() }
        if let tensor = deferred.removeValue(forKey: name) { return try tensor.make() }
        return try files[location[name]!]!.tensor(name)
    }

    /// Lets the memory of the tensor called `name`, already read and no longer used (a float weight
    /// now quantized), go: a file's pages leave this process's resident memory (they would be read
    /// from the file again if touched).
    func release(_ name: String) {
        guard let fileName = location[name], let file = files[fileName] else { return }
        file.releasePages(of: name)
    }

    /// The block-quantized weight called `name`, when the checkpoint keeps it so (a GGUF file's
    /// Q8_0, Q4_0, Q4_K matrix, a bitsandbytes 4-bit weight); nil otherwise.
    func storedQuantized(_ name: String) -> QuantizedMatrix? { quantized[name] }

    /// Throws `ModelError.weightMismatch` if any tensor was missing or misshapen, or is unused.
    func finish() throws {
        let unused = names.filter { name in !expected.contains(name) && !ignorable.contains { $0(name) } }
        guard missing.isEmpty, misshapen.isEmpty, unused.isEmpty else {
            throw ModelError.weightMismatch(directory: directory.path, missing: missing, misshapen: misshapen, unused: unused)
        }
    }
}

/// A tensor of a checkpoint held as the means to make it, so that it takes memory only once read.
struct DeferredTensor {
    let shape: [Int]
    let make: () throws -> Tensor
}
