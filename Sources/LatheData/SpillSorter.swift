/// The memory shared by a run's sort buffers. When the buffers together pass `limit`, the largest one that can
/// spill writes itself to disk as a sorted run.
final class SpillBudget {
    /// Bytes the buffers may hold together (Int.max: never spill).
    let limit: Int
    /// Bytes held now.
    fileprivate(set) var used = 0
    /// Sorted runs written so far.
    fileprivate(set) var runsWritten = 0
    private var buffers: [ObjectIdentifier: () -> (bytes: Int, spill: () throws(DataError) -> Void)] = [:]

    init(limit: Int) { self.limit = limit }

    /// No limit: everything stays in memory.
    static var unlimited: SpillBudget { SpillBudget(limit: .max) }

    fileprivate func register(_ id: ObjectIdentifier, _ probe: @escaping () -> (bytes: Int, spill: () throws(DataError) -> Void)) {
        buffers[id] = probe
    }
    fileprivate func unregister(_ id: ObjectIdentifier) { buffers[id] = nil }

    /// Spills the largest registered buffer (no-op when none holds anything).
    fileprivate func relieve() throws(DataError) {
        guard let largest = buffers.values.map({ $0() }).max(by: { $0.bytes < $1.bytes }), largest.bytes > 0 else { return }
        try largest.spill()
    }

    /// Bytes a merge may use for each run's read buffer when merging `runs` runs.
    func readBufferBytes(runs: Int) -> Int {
        limit == .max ? 1 << 20 : max(4096, min(1 << 20, limit / (4 * max(1, runs))))
    }
}

/// External merge sort of fixed-width values: appended values stay in memory until the shared budget is
/// exceeded, then go to disk as sorted runs; `sorted()` merges the runs (at most `fanIn` at a time). Values
/// must be totally ordered (every value carries its record index), so the order never depends on where
/// the runs were cut and a spilled run gives the same stream as an in-memory one.
final class SpillSorter<Element: Comparable & BitwiseCopyable> {
    /// Runs merged at once; more runs are first merged into longer runs.
    static var fanIn: Int { 64 }
    private let name: String
    private let budget: SpillBudget
    private let directory: SpillDirectory?
    private var buffer: [Element] = []
    private var runs: [String] = []
    /// Values appended.
    private(set) var count = 0

    /// A sorter charging `budget`; runs go to `directory` (nil: never spills).
    init(_ name: String, budget: SpillBudget, directory: SpillDirectory?) {
        self.name = name; self.budget = budget; self.directory = directory
        if directory != nil {
            budget.register(ObjectIdentifier(self)) { [unowned self] in
                (self.buffer.count * MemoryLayout<Element>.stride, { () throws(DataError) in try self.spill() })
            }
        }
    }

    deinit {
        budget.unregister(ObjectIdentifier(self))
        budget.used -= buffer.count * MemoryLayout<Element>.stride
        for run in runs { directory?.remove(run) }
    }

    /// Adds a value.
    func append(_ value: Element) throws(DataError) {
        buffer.append(value)
        count += 1
        budget.used += MemoryLayout<Element>.stride
        if budget.used > budget.limit, directory != nil { try budget.relieve() }
    }

    /// Writes the buffer, sorted, as a run.
    private func spill() throws(DataError) {
        guard let directory, !buffer.isEmpty else { return }
        buffer.sort()
        let path = directory.newPath(name)
        let file = try RawFile(path: path, writing: true)
        try file.write(buffer)
        file.close()
        runs.append(path)
        budget.runsWritten += 1
        budget.used -= buffer.count * MemoryLayout<Element>.stride
        buffer = []
    }

    /// Every value appended, in ascending order. The sorter is empty afterwards.
    func sorted() throws(DataError) -> SortedStream<Element> {
        budget.unregister(ObjectIdentifier(self))
        if runs.isEmpty {
            // The sorted buffer stays charged to the budget until it is read, so later buffers spill sooner.
            buffer.sort()
            let values = buffer
            buffer = []
            return SortedStream(values: values, budget: budget)
        }
        try spill()
        guard let directory else { preconditionFailure("runs exist only with a directory") }
        while runs.count > Self.fanIn {
            // Merge the oldest runs into one longer run until one merge can take them all.
            let group = Array(runs.prefix(Self.fanIn))
            runs.removeFirst(group.count)
            let merged = try SortedStream<Element>(runs: group, directory: directory, budget: budget)
            let path = directory.newPath(name)
            let file = try RawFile(path: path, writing: true)
            var chunk: [Element] = []
            chunk.reserveCapacity(budget.readBufferBytes(runs: 1) / MemoryLayout<Element>.stride)
            while let value = try merged.next() {
                chunk.append(value)
                if chunk.count == chunk.capacity {
                    try file.write(chunk)
                    chunk.removeAll(keepingCapacity: true)
                }
            }
            try file.write(chunk)
            file.close()
            runs.append(path)
        }
        let stream = try SortedStream<Element>(runs: runs, directory: directory, budget: budget)
        runs = []
        return stream
    }
}

/// The ascending values of a `SpillSorter`: an in-memory array, or a k-way merge of sorted run files (each
/// read through a small buffer and deleted once read).
final class SortedStream<Element: Comparable & BitwiseCopyable> {
    private var values: [Element] = []
    private var position = 0
    private var readers: [RawValueReader<Element>] = []
    private var heap: [(value: Element, run: Int)] = []
    private let directory: SpillDirectory?
    private let budget: SpillBudget
    /// Bytes of `values` still charged to the budget.
    private var charged = 0

    fileprivate init(values: [Element], budget: SpillBudget) {
        self.values = values; self.budget = budget; directory = nil
        charged = values.count * MemoryLayout<Element>.stride
    }

    fileprivate init(runs: [String], directory: SpillDirectory, budget: SpillBudget) throws(DataError) {
        self.directory = directory; self.budget = budget
        let bufferBytes = budget.readBufferBytes(runs: runs.count)
        for path in runs { readers.append(try RawValueReader(path: path, bufferBytes: bufferBytes)) }
        for (run, reader) in readers.enumerated() { if let value = try reader.next() { push((value, run)) } }
    }

    deinit {
        budget.used -= charged
        for reader in readers { directory?.remove(reader.path) }
    }

    /// The next value, or nil at the end.
    func next() throws(DataError) -> Element? {
        if readers.isEmpty {
            guard position < values.count else {
                values = []
                budget.used -= charged
                charged = 0
                return nil
            }
            defer { position += 1 }
            return values[position]
        }
        guard let top = heap.first else { return nil }
        if let value = try readers[top.run].next() {
            heap[0] = (value, top.run)
            siftDown(0)
        } else {
            directory?.remove(readers[top.run].path)
            let last = heap.removeLast()
            if !heap.isEmpty { heap[0] = last; siftDown(0) }
        }
        return top.value
    }

    private func push(_ entry: (value: Element, run: Int)) {
        heap.append(entry)
        var i = heap.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard heap[i].value < heap[parent].value else { break }
            heap.swapAt(i, parent)
            i = parent
        }
    }

    private func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1, r = l + 1
            var smallest = i
            if l < heap.count, heap[l].value < heap[smallest].value { smallest = l }
            if r < heap.count, heap[r].value < heap[smallest].value { smallest = r }
            if smallest == i { return }
            heap.swapAt(i, smallest)
            i = smallest
        }
    }
}

/// Sequential reader of a file of fixed-width values (a sort run, the journal index) through a fixed buffer.
final class RawValueReader<Element: BitwiseCopyable> {
    let path: String
    private let file: RawFile
    private let buffer: UnsafeMutableBufferPointer<Element>
    private var count = 0
    private var position = 0

    init(path: String, bufferBytes: Int) throws(DataError) {
        self.path = path
        file = try RawFile(path: path, writing: false)
        buffer = .allocate(capacity: max(1, bufferBytes / MemoryLayout<Element>.stride))
    }

    deinit { buffer.deallocate() }

    func next() throws(DataError) -> Element? {
        if position == count {
            let bytes = try file.read(into: UnsafeMutableRawBufferPointer(buffer))
            guard bytes % MemoryLayout<Element>.stride == 0 else {
                throw DataError.cannotRead(path: path, reason: "spill run ends inside a value (\(bytes) bytes); was it modified?")
            }
            count = bytes / MemoryLayout<Element>.stride
            position = 0
            if count == 0 { file.close(); return nil }
        }
        defer { position += 1 }
        return buffer[position]
    }
}
