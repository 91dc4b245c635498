/// A node of a Parquet schema tree with the levels its values carry (Dremel: a value's definition level counts the
/// optional and repeated fields on its path that are present; its repetition level, the repeated ones it repeats).
struct ParquetNode {
    enum Repetition { case required, optional, repeated }
    /// The logical annotation that changes how a group reads: LIST and MAP become JSON arrays.
    enum Annotation { case none, list, map }

    var name: String
    var repetition: Repetition
    var annotation: Annotation = .none
    /// Children of a group; empty for a column.
    var children: [ParquetNode] = []
    /// The columns under this node are `firstLeaf ..< firstLeaf + leafCount` in file order.
    var firstLeaf = 0
    var leafCount = 0
    /// Definition level of a present value of this node, and repetition level of a repeat of it.
    var maxDef = 0
    var maxRep = 0
    var isLeaf: Bool { children.isEmpty }
}

/// One column (a leaf of the schema): its dotted path, physical type and levels.
struct ParquetLeaf {
    var path: String
    var type: ParquetPhysicalType
    var typeLength: Int
    /// BYTE_ARRAY annotated STRING, ENUM or JSON (UTF-8 text); other byte arrays are binary.
    var isText: Bool
    var maxDef: Int
    var maxRep: Int
}

/// The schema tree of a file, rebuilt from the footer's depth-first list of elements.
struct ParquetSchema {
    var root: ParquetNode
    var leaves: [ParquetLeaf] = []
    static let maxDepth = 32

    init(_ elements: [ParquetSchemaElement], file: String) throws {
        root = ParquetNode(name: "", repetition: .required)
        var index = 0
        var leaves: [ParquetLeaf] = []
        root = try Self.node(elements, &index, depth: 0, parentDef: 0, parentRep: 0, path: [], leaves: &leaves, file: file)
        guard index == elements.count else {
            throw Self.error(file, "the schema lists \(elements.count) elements but its tree uses \(index)")
        }
        guard !root.isLeaf else { throw Self.error(file, "the schema root is a column, not a group") }
        self.leaves = leaves
    }

    static func error(_ file: String, _ problem: String) -> FormatError {
        FormatError(.invalidValue, file: file, "Parquet schema: \(problem)",
                    fix: "the file's footer is corrupt; export it again (pyarrow, pandas, Spark or datasets)")
    }

    private static func node(_ elements: [ParquetSchemaElement], _ index: inout Int, depth: Int, parentDef: Int,
                             parentRep: Int, path: [String], leaves: inout [ParquetLeaf], file: String) throws -> ParquetNode {
        guard depth <= maxDepth else { throw error(file, "groups nest deeper than \(maxDepth) (ParquetSchema.maxDepth, a fixed bound on the schema reader's recursion); flatten the schema") }
        guard index < elements.count else { throw error(file, "a group announces more children than the schema lists") }
        let e = elements[index]
        index += 1
        var node = ParquetNode(name: e.name, repetition: .required)
        if depth > 0 {
            switch e.repetition ?? 0 {
            case 0: node.repetition = .required
            case 1: node.repetition = .optional
            case 2: node.repetition = .repeated
            default: throw error(file, "field '\(e.name)' has repetition type \(e.repetition ?? 0)")
            }
        }
        node.maxDef = parentDef + (node.repetition == .required ? 0 : 1)
        node.maxRep = parentRep + (node.repetition == .repeated ? 1 : 0)
        let fieldPath = depth == 0 ? [] : path + [e.name]
        if e.convertedType == 3 || e.logicalType == 3 { node.annotation = .list }
        if e.convertedType == 1 || e.convertedType == 2 || e.logicalType == 2 { node.annotation = .map }
        node.firstLeaf = leaves.count
        if let count = e.numChildren, count > 0 || e.type == nil {
            guard count > 0, count <= elements.count - index else {
                throw error(file, "group '\(e.name)' announces \(count) children")
            }
            for _ in 0 ..< count {
                node.children.append(try self.node(elements, &index, depth: depth + 1, parentDef: node.maxDef,
                                                   parentRep: node.maxRep, path: fieldPath, leaves: &leaves, file: file))
            }
        } else {
            guard let type = e.type else { throw error(file, "column '\(e.name)' has no physical type") }
            let length = Int(e.typeLength ?? 0)
            if type == .fixedLenByteArray, length <= 0 || length > 1 << 20 {
                throw error(file, "fixed-length column '\(e.name)' has type_length \(length)")
            }
            let text = type == .byteArray && ([0, 4, 19].contains(e.convertedType ?? -1) || [1, 4, 12].contains(e.logicalType ?? -1))
            leaves.append(ParquetLeaf(path: fieldPath.joined(separator: "."), type: type,
                                      typeLength: type == .int96 ? 12 : length, isText: text,
                                      maxDef: node.maxDef, maxRep: node.maxRep))
        }
        node.leafCount = leaves.count - node.firstLeaf
        return node
    }

    /// Bits needed for levels up to `maxLevel` (the RLE bit width of a level stream).
    static func bitWidth(_ maxLevel: Int) -> Int { maxLevel == 0 ? 0 : Int.bitWidth - maxLevel.leadingZeroBitCount }

    /// The top-level fields' names, in file order.
    var fieldNames: [String] { root.children.map(\.name) }
}
