/// TRL's `packing_strategy`: how `packing` fills rows of `max_length` tokens.
public enum PackingStrategy: String, ConfigChoice, Sendable {
    /// Best-fit decreasing: whole examples (cut to `max_length`, keeping their start) placed in rows
    /// without crossing, each attending only to itself.
    case bfd
    /// `bfd`, but an example longer than `max_length` is split into pieces of `max_length` (the
    /// last shorter), each packed as an example of its own.
    case bfdSplit = "bfd_split"
    /// The examples concatenated and cut every `max_length` tokens; a row attends across the
    /// examples it holds, as one sequence.
    case wrapped
}

/// Packs tokenized SFT examples into rows of at most `length` tokens exactly as TRL 1.16's
/// `pack_dataset` does (`_pack_bfd`, `_pack_wrapped`): rows, their order, and each row's documents.
public enum SFTPacking {
    /// `pack_dataset` runs through `datasets`' `map(batched=True)`, whose default batch is 1000 rows:
    /// each run of 1000 examples is packed on its own.
    static let mapBatchSize = 1000

    /// The packed rows of `examples` (in file order), batch by batch of ``mapBatchSize``.
    public static func pack(_ examples: [SFTSequence], length: Int, strategy: PackingStrategy) -> [SFTSequence] {
        precondition(length > 0, "SFTPacking: rows of \(length) tokens")
        return stride(from: 0, to: examples.count, by: mapBatchSize).flatMap { start in
            let batch = examples[start..<min(start + mapBatchSize, examples.count)]
            switch strategy {
            case .bfd: return bestFitDecreasing(batch.filter { !$0.ids.isEmpty }.map { prefix($0, length) }, capacity: length)
            case .bfdSplit: return bestFitDecreasing(batch.flatMap { pieces($0, length) }, capacity: length)
            case .wrapped: return wrapped(Array(batch), length: length)
            }
        }
    }

    /// The first `length` tokens of `example` (`_pack_bfd` truncates from the end whatever `truncation_mode` says).
    private static func prefix(_ example: SFTSequence, _ length: Int) -> SFTSequence {
        SFTSequence(ids: Array(example.ids.prefix(length)), trained: Array(example.trained.prefix(length)))
    }

    /// `example` cut into pieces of `length` tokens, the last one shorter (`on_seq_length_overflow="split"`).
    private static func pieces(_ example: SFTSequence, _ length: Int) -> [SFTSequence] {
        stride(from: 0, to: example.ids.count, by: length).map { start in
            let end = min(start + length, example.ids.count)
            return SFTSequence(ids: Array(example.ids[start..<end]), trained: Array(example.trained[start..<end]))
        }
    }

    /// Best-fit decreasing: the examples longest first (ties in their order), each put in the row
    /// with the least room that fits it — among rows with equal room, the one that got that room
    /// first — or in a new row. Rows come out in the order they were opened.
    private static func bestFitDecreasing(_ examples: [SFTSequence], capacity: Int) -> [SFTSequence] {
        let order = examples.indices.sorted {
            let (a, b) = (examples[$0].ids.count, examples[$1].ids.count)
            return a != b ? a > b : $0 < $1
        }
        var rows: [[Int]] = []
        var rowsByRoom: [Int: [Int]] = [:]
        var rooms: [Int] = []  // the rooms rows have, ascending, below capacity
        for index in order {
            let length = examples[index].ids.count
            let fitting = rooms.partitioningIndex { $0 >= length }
            let row: Int, room: Int
            if fitting < rooms.count {
                room = rooms[fitting]
                row = rowsByRoom[room]!.removeFirst()
                if rowsByRoom[room]!.isEmpty { rooms.remove(at: fitting) }
            } else {
                room = capacity
                row = rows.count
                rows.append([])
            }
            rows[row].append(index)
            let left = room - length
            rowsByRoom[left, default: []].append(row)
            if left > 0 {
                let place = rooms.partitioningIndex { $0 >= left }
                if place == rooms.count || rooms[place] != left { rooms.insert(left, at: place) }
            }
        }
        return rows.map { members in
            SFTSequence(ids: members.flatMap { examples[$0].ids }, trained: members.flatMap { examples[$0].trained },
                        documentLengths: members.map { examples[$0].ids.count })
        }
    }

    /// The examples' tokens end to end, cut every `length` tokens into rows of one sequence each.
    private static func wrapped(_ examples: [SFTSequence], length: Int) -> [SFTSequence] {
        let ids = examples.flatMap(\.ids), trained = examples.flatMap(\.trained)
        return stride(from: 0, to: ids.count, by: length).map { start in
            let end = min(start + length, ids.count)
            return SFTSequence(ids: Array(ids[start..<end]), trained: Array(trained[start..<end]))
        }
    }
}

private extension Array {
    /// The first index whose element satisfies `belongs`, which must hold for a suffix of the array.
    func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var (low, high) = (0, count)
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
