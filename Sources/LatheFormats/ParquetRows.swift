/// Why one row could not be turned into JSON: its text is not UTF-8, it is over the size cap, or its levels
/// contradict the schema. The row is dropped on its own; the rest of the file reads on.
public struct ParquetRowProblem: Error, Sendable, Equatable {
    /// `invalid_utf8`, `record_too_large` or `invalid_parquet_row`.
    public var code: String
    /// What and where, with the fix.
    public var detail: String
}

/// The decoded columns of one row group, assembled into rows on demand (Dremel record assembly, as in Melnik et
/// al., "Dremel: Interactive Analysis of Web-Scale Datasets", 2010): each row a JSON object keyed by the top-level
/// field names, LIST and MAP groups as arrays, structs as objects, nulls as `null`.
public struct ParquetRowGroup {
    /// Position of the row group in the file.
    public let index: Int
    /// Number of rows.
    public let rowCount: Int
    /// File offset of the row group's first column chunk, for locating rows in messages.
    public let byteOffset: Int
    let schema: ParquetSchema
    let columns: [ParquetColumn]
    /// Per column: the first entry of each row, then the entry count.
    let rowStarts: [[Int]]
    /// Per column: the number of non-null values before each row.
    let valueStarts: [[Int]]

    init(index: Int, rowCount: Int, byteOffset: Int, schema: ParquetSchema, columns: [ParquetColumn]) throws(ParquetPageProblem) {
        self.index = index; self.rowCount = rowCount; self.byteOffset = byteOffset
        self.schema = schema; self.columns = columns
        var rowStarts: [[Int]] = [], valueStarts: [[Int]] = []
        for (leaf, column) in zip(schema.leaves, columns) {
            var starts: [Int] = [], values: [Int] = []
            // The footer's row count is not trusted for allocation: a row needs at least one entry.
            starts.reserveCapacity(min(rowCount, column.entries) + 1); values.reserveCapacity(min(rowCount, column.entries) + 1)
            var seen = 0
            let top = UInt8(leaf.maxDef)
            for entry in 0 ..< column.entries {
                if leaf.maxRep == 0 || column.repetition[entry] == 0 {
                    starts.append(entry); values.append(seen)
                } else if entry == 0 {
                    throw ParquetPageProblem(.invalidValue, "column '\(leaf.path)' starts in the middle of a row")
                }
                if leaf.maxDef == 0 || column.definition[entry] == top { seen += 1 }
            }
            guard starts.count == rowCount else {
                throw ParquetPageProblem(.invalidValue, "column '\(leaf.path)' holds \(starts.count) rows where the row "
                    + "group announces \(rowCount)")
            }
            guard seen == column.refs.count else {
                throw ParquetPageProblem(.invalidValue, "column '\(leaf.path)' has \(column.refs.count) values where its "
                    + "levels need \(seen)")
            }
            starts.append(column.entries); values.append(seen)
            rowStarts.append(starts); valueStarts.append(values)
        }
        self.rowStarts = rowStarts
        self.valueStarts = valueStarts
    }

    /// Row `row` (0-based within the group) as a JSON object, or why it cannot be read; `maxBytes` caps the bytes
    /// of its values.
    public func row(_ row: Int, maxBytes: Int) -> Result<JSONValue, ParquetRowProblem> {
        var assembler = Assembler(group: self, cursor: valueStarts.map { $0[row] }, maxBytes: maxBytes)
        let ranges = rowStarts.map { $0[row] ..< $0[row + 1] }
        do throws(ParquetRowProblem) {
            return .success(try assembler.instance(schema.root, ranges))
        } catch {
            return .failure(error)
        }
    }

    /// Walks the schema tree for one row, consuming each column's entries in order.
    private struct Assembler {
        let group: ParquetRowGroup
        var cursor: [Int]
        let maxBytes: Int
        var bytes = 0

        func corrupt(_ leaf: Int, _ what: String) -> ParquetRowProblem {
            ParquetRowProblem(code: "invalid_parquet_row", detail: "row group \(group.index), column "
                + "'\(group.schema.leaves[leaf].path)': \(what); the file is corrupt, export it again")
        }

        func definition(_ leaf: Int, _ entry: Int) -> Int {
            group.schema.leaves[leaf].maxDef == 0 ? 0 : Int(group.columns[leaf].definition[entry])
        }

        /// The value of field `node` in one instance of its parent, whose entries in each column are `ranges`
        /// (indexed from `node.firstLeaf`).
        mutating func field(_ node: ParquetNode, _ ranges: [Range<Int>]) throws(ParquetRowProblem) -> JSONValue {
            switch node.repetition {
            case .repeated: return .array(try occurrences(node, ranges).map { (r) throws(ParquetRowProblem) in try instance(node, r) })
            case .optional:
                guard let first = ranges.first, !first.isEmpty else { throw corrupt(node.firstLeaf, "a field has no entry") }
                return definition(node.firstLeaf, first.lowerBound) < node.maxDef ? .null : try instance(node, ranges)
            case .required: return try instance(node, ranges)
            }
        }

        /// The entries of each occurrence of the repeated `node` (none when its first entry is not defined that deep).
        func occurrences(_ node: ParquetNode, _ ranges: [Range<Int>]) throws(ParquetRowProblem) -> [[Range<Int>]] {
            guard let first = ranges.first, !first.isEmpty else { throw corrupt(node.firstLeaf, "a list has no entry") }
            if definition(node.firstLeaf, first.lowerBound) < node.maxDef { return [] }
            var result: [[Range<Int>]] = []
            for (k, range) in ranges.enumerated() {
                let leaf = node.firstLeaf + k
                let repetition = group.columns[leaf].repetition
                var starts = [range.lowerBound]
                for entry in range.dropFirst() where Int(repetition[entry]) <= node.maxRep { starts.append(entry) }
                starts.append(range.upperBound)
                if k == 0 {
                    result = Array(repeating: [], count: starts.count - 1)
                } else if starts.count - 1 != result.count {
                    throw corrupt(leaf, "its list has \(starts.count - 1) elements where a sibling column has \(result.count)")
                }
                for j in 0 ..< starts.count - 1 { result[j].append(starts[j] ..< starts[j + 1]) }
            }
            return result
        }

        /// One present instance of `node`.
        mutating func instance(_ node: ParquetNode, _ ranges: [Range<Int>]) throws(ParquetRowProblem) -> JSONValue {
            if node.isLeaf { return try value(node.firstLeaf, ranges[0]) }
            if node.annotation != .none, node.children.count == 1, node.children[0].repetition == .repeated {
                // LIST: a repeated group holding the element (three levels), or the repeated field is the element
                // itself (older two-level lists). MAP: each repeated key_value group becomes {key, value}.
                let repeated = node.children[0]
                let threeLevel = node.annotation == .list && !repeated.isLeaf && repeated.children.count == 1
                    && repeated.name != "array" && repeated.name != node.name + "_tuple"
                var elements: [JSONValue] = []
                for occurrence in try occurrences(repeated, ranges) {
                    elements.append(threeLevel ? try field(repeated.children[0], occurrence) : try instance(repeated, occurrence))
                }
                return .array(elements)
            }
            var pairs: [(String, JSONValue)] = []
            for child in node.children {
                let offset = child.firstLeaf - node.firstLeaf
                pairs.append((child.name, try field(child, Array(ranges[offset ..< offset + child.leafCount]))))
            }
            return .object(JSONObject(pairs))
        }

        /// The single value of column `leaf` at the one entry in `range`.
        mutating func value(_ leaf: Int, _ range: Range<Int>) throws(ParquetRowProblem) -> JSONValue {
            let column = group.columns[leaf]
            guard range.count == 1, definition(leaf, range.lowerBound) == group.schema.leaves[leaf].maxDef,
                  cursor[leaf] < column.refs.count else {
                throw corrupt(leaf, "its levels do not match the schema")
            }
            let index = Int(column.refs[cursor[leaf]])
            cursor[leaf] += 1
            bytes += column.pool.size(index)
            guard bytes <= maxBytes else {
                throw ParquetRowProblem(code: "record_too_large", detail: "row is over the max_record_bytes cap of "
                    + "\(maxBytes) bytes; split the record or raise --max-record-mb")
            }
            guard let json = column.pool.json(index) else {
                throw ParquetRowProblem(code: "invalid_utf8", detail: "column '\(group.schema.leaves[leaf].path)' holds "
                    + "a string that is not UTF-8 (row group \(group.index)); re-export the text as UTF-8")
            }
            return json
        }
    }
}
