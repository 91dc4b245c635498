/// Disjoint sets over record indices. The root of every set is its smallest index, so the survivor of a
/// cluster is always its earliest record, whatever order the pairs arrive in.
public struct UnionFind: Sendable {
    private var parent: [Int32]

    /// `count` singleton sets.
    public init(count: Int) { parent = (0..<Int32(count)).map { $0 } }

    /// The root (smallest index) of `x`'s set, compressing the path.
    public mutating func find(_ x: Int) -> Int {
        var root = Int32(x)
        while parent[Int(root)] != root { root = parent[Int(root)] }
        var node = Int32(x)
        while parent[Int(node)] != root { let next = parent[Int(node)]; parent[Int(node)] = root; node = next }
        return Int(root)
    }

    /// Joins the sets of `a` and `b`; true when they were separate.
    @discardableResult
    public mutating func union(_ a: Int, _ b: Int) -> Bool {
        let ra = find(a), rb = find(b)
        if ra == rb { return false }
        if ra < rb { parent[rb] = Int32(ra) } else { parent[ra] = Int32(rb) }
        return true
    }
}
