import FledgeTensor

/// Keys and values of every layer for a batch of sequences, preallocated for `capacity`
/// positions: `[batch, capacity, kvHeads, headDim]` per layer. A forward pass writes its new
/// keys and values after the `length` cached ones, and attention reads the filled part as a
/// strided view, so nothing is copied or reallocated as the sequences grow.
///
/// Every row's tokens end at `length` (rows are left-padded, and a row placed later is
/// right-aligned to `length`, see ``copyRow(_:of:positions:into:)``). A pass may use only the
/// first rows of the cache (its batch); the continuous-batching scheduler keeps its decoding
/// rows there, moving a row into the place of one that stopped (``moveRow(_:to:)``) and
/// dropping positions no row uses any more (``dropLeading(_:)``).
///
/// A cache made with sliding windows keeps only a window's worth of positions for each
/// sliding-window layer: that layer's tensors hold `min(capacity, 2 · window)` positions, and a
/// pass that would overflow them first drops the positions before its first query's window
/// (no later query sees them). Passes then add at most `window + 1` positions (decoding steps).
public final class KVCache: @unchecked Sendable {
    public let batch: Int
    public let capacity: Int
    /// Positions filled so far (the same for every row; rows are left-padded).
    public internal(set) var length = 0
    private let keys: [Tensor]
    private let values: [Tensor]
    /// Floats of one position of one row of one layer (`kvHeads · headDim`).
    private let positionSize: Int
    /// Per layer: the window whose older positions are dropped, or nil to keep every position.
    private let windows: [Int?]
    /// Per layer: the positions its tensors hold.
    let layerCapacities: [Int]
    /// Per layer: the first position it still holds (those before it were dropped).
    private var firstHeld: [Int]

    /// A cache of `layers` layers; layer `l` keeps only the last positions of its sliding window
    /// `windows[l]` when `windows` is given (decoding caches), every position otherwise.
    init(layers: Int, batch: Int, capacity: Int, kvHeads: Int, headDim: Int, windows: [Int?]? = nil) {
        precondition(windows.map { $0.count == layers } ?? true, "KV cache: \(windows?.count ?? 0) windows for \(layers) layers")
        self.batch = batch
        self.capacity = capacity
        positionSize = kvHeads * headDim
        self.windows = windows ?? Array(repeating: nil, count: layers)
        layerCapacities = self.windows.map { window in window.map { min(capacity, 2 * $0) } ?? capacity }
        firstHeld = Array(repeating: 0, count: layers)
        keys = layerCapacities.map { Tensor.zeros([batch, $0, kvHeads, headDim]) }
        values = layerCapacities.map { Tensor.zeros([batch, $0, kvHeads, headDim]) }
    }

    /// Makes an empty cache `length` positions long, for rows to be copied in
    /// (``copyRow(_:of:positions:into:)``); a layer keeping only its window holds the last
    /// `window − 1` of them, all the next query sees.
    func startEmpty(at length: Int) {
        precondition(self.length == 0 && length <= capacity, "KV cache: cannot start at \(length) positions")
        self.length = length
        for (layer, window) in windows.enumerated() {
            if let window { firstHeld[layer] = max(0, length - min(window - 1, layerCapacities[layer])) }
        }
    }

    /// Writes `[rows, t, kvHeads, headDim]` keys and values at positions `start..<start + t` of
    /// the first `rows` rows of `layer`; returns views of the positions it holds up to
    /// `start + t` of those rows (`0..<start + t` unless it drops positions outside its window).
    func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor, at start: Int) -> (Tensor, Tensor) {
        let rows = newKeys.shape[0], t = newKeys.shape[1]
        precondition(rows <= batch, "KV cache holds \(batch) rows; \(rows) given")
        let layerCapacity = layerCapacities[layer]
        if let window = windows[layer], start + t - firstHeld[layer] > layerCapacity {
            // No query of this pass (nor a later one) sees a key before its first query's window.
            drop(start - (window - 1) - firstHeld[layer], of: layer, held: start - firstHeld[layer])
        }
        let local = start - firstHeld[layer]
        precondition(local + t <= layerCapacity, "KV cache holds \(layerCapacity) positions; \(local + t) needed")
        for (cache, source) in [(keys[layer], newKeys), (values[layer], newValues)] {
            source.withUnsafeElements { from in
                cache.withUnsafeMutableElements { to in
                    for b in 0..<rows {
                        let target = to.baseAddress! + (b * layerCapacity + local) * positionSize
                        target.update(from: from.baseAddress! + b * t * positionSize, count: t * positionSize)
                    }
                }
            }
        }
        func view(_ tensor: Tensor) -> Tensor {
            let used = rows == batch ? tensor : tensor.slice(axis: 0, 0..<rows)
            return used.slice(axis: 1, 0..<local + t)
        }
        return (view(keys[layer]), view(values[layer]))
    }

    /// Copies positions `positions` of row `sourceRow` of `source` (an untrimmed cache of the same
    /// model) into row `row` of this one, every layer, so that they end at `length` (a layer
    /// keeping only its window takes the part it holds): a prompt prefilled once is shared by the
    /// rows that continue it.
    func copyRow(_ sourceRow: Int, of source: KVCache, positions: Range<Int>, into row: Int) {
        precondition(positions.count <= length && positions.upperBound <= source.length,
                     "KV cache row copy of \(positions) into \(length) filled positions")
        precondition(source.windows.allSatisfy { $0 == nil }, "KV cache rows are copied from a cache that keeps every position")
        for layer in keys.indices {
            let count = min(positions.count, length - firstHeld[layer])
            let from = (sourceRow * source.layerCapacities[layer] + positions.upperBound - count) * positionSize
            let to = (row * layerCapacities[layer] + length - count - firstHeld[layer]) * positionSize
            for (target, origin) in [(keys[layer], source.keys[layer]), (values[layer], source.values[layer])] {
                origin.withUnsafeElements { origin in
                    target.withUnsafeMutableElements { target in
                        (target.baseAddress! + to).update(from: origin.baseAddress! + from, count: count * positionSize)
                    }
                }
            }
        }
    }

    /// Copies row `source`'s held positions over row `row`'s (the scheduler filling the place
    /// of a row that stopped with its last row).
    func moveRow(_ source: Int, to row: Int) {
        for layer in keys.indices {
            let rowSize = layerCapacities[layer] * positionSize, count = (length - firstHeld[layer]) * positionSize
            for tensor in [keys[layer], values[layer]] {
                tensor.withUnsafeMutableElements { elements in
                    let base = elements.baseAddress!
                    (base + row * rowSize).update(from: base + source * rowSize, count: count)
                }
            }
        }
    }

    /// Drops the first `count` positions of every row (positions no row reads any more), moving
    /// the rest to the front: `length` falls by `count`.
    func dropLeading(_ count: Int) {
        precondition(count <= length, "KV cache has \(length) positions; cannot drop \(count)")
        for layer in keys.indices {
            if firstHeld[layer] >= count {
                firstHeld[layer] -= count
            } else {
                let held = length - firstHeld[layer]
                drop(count - firstHeld[layer], of: layer, held: held)
                firstHeld[layer] = 0
            }
        }
        length -= count
    }

    /// Drops the first `count` of the `held` positions `layer` holds in every row.
    private func drop(_ count: Int, of layer: Int, held: Int) {
        guard count > 0 else { return }
        let rowSize = layerCapacities[layer] * positionSize
        for tensor in [keys[layer], values[layer]] {
            tensor.withUnsafeMutableElements { elements in
                for b in 0..<batch {
                    let rowStart = elements.baseAddress! + b * rowSize
                    rowStart.update(from: rowStart + count * positionSize, count: (held - count) * positionSize)
                }
            }
        }
        firstHeld[layer] += count
    }
}
