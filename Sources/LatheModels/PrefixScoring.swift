/// Rows of one scoring run that begin with the same `prefix` tokens: the few-shot examples of a `first_n` sampler,
/// a task description or system prompt shared across documents. The prefix runs once into a KV cache and each
/// member runs only its own suffix against it (`AttentionSource.prefix`), so the shared tokens are computed once
/// per group instead of once per request.
struct PrefixGroup: Equatable {
    /// Shared leading tokens; at most each member's first scored position, so every scored row is a suffix row.
    let prefix: Int
    /// Row indices, in the run's lexicographic order.
    let members: [Int]

    /// Groups worth running: sort the rows, then split runs of rows whose neighbours share at least
    /// `minimumPrefix` tokens where splitting computes fewer tokens — (members − 1) · prefix saved per group, none
    /// for groups of fewer than `minimumRows`, whose rows stay in the padded batches. `limits[i]` caps what row i
    /// may share (its first scored position).
    static func find(_ rows: [[Int32]], limits: [Int], minimumPrefix: Int, minimumRows: Int) -> [PrefixGroup] {
        let order = rows.indices.sorted { a, b in
            rows[a].lexicographicallyPrecedes(rows[b]) || (rows[a] == rows[b] && a < b)
        }
        guard order.count >= 2 else { return [] }
        // shared[i]: tokens rows order[i] and order[i + 1] may share.
        let shared = (0..<(order.count - 1)).map { i -> Int in
            let (a, b) = (order[i], order[i + 1])
            let cap = min(limits[a], limits[b])
            var n = 0
            while n < cap && rows[a][n] == rows[b][n] { n += 1 }
            return n
        }
        func saving(_ range: Range<Int>) -> Int {      // over `order` indices
            guard range.count >= max(2, minimumRows) else { return 0 }
            let prefix = shared[range.lowerBound..<(range.upperBound - 1)].min() ?? 0
            return prefix >= minimumPrefix ? (range.count - 1) * prefix : 0
        }
        /// The most tokens `range` can save, and its groups: whole, or split at its weakest neighbour link (the
        /// middle one of equal links, so the recursion stays shallow) with each side at its best.
        func best(_ range: Range<Int>) -> (saved: Int, groups: [PrefixGroup]) {
            guard range.count >= max(2, minimumRows) else { return (0, []) }
            let links = range.lowerBound..<(range.upperBound - 1)
            let weakest = shared[links].min()!
            let ties = links.filter { shared[$0] == weakest }
            let at = ties[ties.count / 2]
            let (left, right) = (best(range.lowerBound..<(at + 1)), best((at + 1)..<range.upperBound))
            let whole = saving(range)
            if whole > 0 && whole >= left.saved + right.saved {
                return (whole, [PrefixGroup(prefix: weakest, members: range.map { order[$0] })])
            }
            return (left.saved + right.saved, left.groups + right.groups)
        }
        // Links below the minimum separate independent runs (found without recursion: most rows share little).
        var groups = [PrefixGroup](), runStart = 0
        for i in 0...shared.count where i == shared.count || shared[i] < minimumPrefix {
            groups += best(runStart..<(i + 1)).groups
            runStart = i + 1
        }
        return groups
    }
}

extension DecoderModel {
    /// Scores the members of `group`: its prefix runs once into a KV cache, then the members' suffixes run in
    /// batches of about `batchTokens` rows against it, and the LM head runs only at each member's last
    /// `targets[m].count` positions. The same computation as `scoreBatch` (lm-eval `_loglikelihood_tokens`),
    /// summed in another order: log-likelihoods agree to fp32 rounding.
    func scoreGroup(_ group: PrefixGroup, rows: [[Int32]], targets: [[Int32]], batchTokens: Int) throws -> [ContinuationScore] {
        let first = rows[group.members[0]]
        var cache = KVCache(config: config, capacity: group.prefix)
        _ = try step(Array(first[0..<group.prefix]), cache: &cache)
        var scores = [ContinuationScore](), start = 0
        while start < group.members.count {
            var end = start, tokens = 0
            while end < group.members.count, end == start || tokens + rows[group.members[end]].count - group.prefix <= batchTokens {
                tokens += rows[group.members[end]].count - group.prefix
                end += 1
            }
            let members = Array(group.members[start..<end])
            scores += try scoreSuffixes(members.map { Array(rows[$0][group.prefix...]) }, members.map { targets[$0] }, cache: cache)
            start = end
        }
        return scores
    }

    /// Suffix rows after the cached prefix (`runSuffixes`), each scored at its last `targets[s].count` rows.
    private func scoreSuffixes(_ suffixes: [[Int32]], _ targets: [[Int32]], cache: KVCache) throws -> [ContinuationScore] {
        let c = config.hiddenSize
        var scored = [Int](), wanted = [Int32](), row = 0
        for (s, suffix) in suffixes.enumerated() {
            try validate(suffix)
            try validate(targets[s])
            scored += (0..<targets[s].count).map { row + suffix.count - targets[s].count + $0 }
            wanted += targets[s]
            row += suffix.count
        }
        let ws = runSuffixes(suffixes, cache: cache)
        var selected = [Float](repeating: 0, count: scored.count * c)      // (R, C)
        selected.withUnsafeMutableBufferPointer { out in
            for (r, row) in scored.enumerated() { (out.baseAddress! + r * c).update(from: ws.finalNormed + row * c, count: c) }
        }
        return scoreHidden(selected, wanted, counts: targets.map(\.count))
    }
}
