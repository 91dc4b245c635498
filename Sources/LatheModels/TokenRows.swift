import LatheFormats
import LatheSupport
import LatheTensors

/// Tokens an adapter adds after the base vocabulary, and the embedding / LM-head rows it trains, as PEFT 0.21 does:
/// either the new tokens' rows only (`trainable_token_indices`, `TrainableTokensLayer`: trained *values* that
/// replace those rows, not deltas added to them) or the whole matrices (`modules_to_save: [embed_tokens, lm_head]`).
/// With tied embeddings one table serves the embedding and the LM head, as PEFT's tied token adapter shares the
/// embedding's parameter. The tables live in `LoRAAdapter.parameters` after the LoRA matrices, so gradients, AdamW
/// moments, clipping, checkpoints and the gradient exchange cover them.
public struct TokenRows: Sendable, Equatable {
    /// The added token strings; token i has id `baseVocab + i`.
    public let newTokens: [String]
    /// V: the base model's vocabulary size.
    public let baseVocab: Int
    /// C: the model width.
    public let hidden: Int
    /// Whole matrices trained (`modules_to_save`) rather than the new tokens' rows.
    public let wholeMatrices: Bool
    /// Embedding and LM head are one matrix.
    public let tied: Bool
    /// Where the tables start in `LoRAAdapter.parameters`.
    public let offset: Int

    public init(newTokens: [String], baseVocab: Int, hidden: Int, wholeMatrices: Bool, tied: Bool, offset: Int) {
        self.newTokens = newTokens
        self.baseVocab = baseVocab
        self.hidden = hidden
        self.wholeMatrices = wholeMatrices
        self.tied = tied
        self.offset = offset
    }

    /// The vocabulary with the new tokens (V + k).
    public var vocab: Int { baseVocab + newTokens.count }
    /// The first trained row: 0 for whole matrices, else V (the trained rows are `firstRow..<vocab`).
    public var firstRow: Int { wholeMatrices ? 0 : baseVocab }
    /// Trained rows per table.
    public var rowCount: Int { vocab - firstRow }
    /// Offset of the embedding table (rowCount, C).
    public var embedding: Int { offset }
    /// Offset of the LM-head table (rowCount, C); the embedding's when tied.
    public var head: Int { tied ? offset : offset + rowCount * hidden }
    /// Floats of the tables.
    public var floatCount: Int { rowCount * hidden * (tied ? 1 : 2) }
    /// The ids of the trained rows (PEFT's `trainable_token_indices`).
    public var indices: [Int] { Array(firstRow..<vocab) }

    /// Named tables as PEFT saves them, with their offsets: `trainable_tokens_delta` of the token adapters, or the
    /// `modules_to_save` copies (saved as `<module>.weight`, the key `ModulesToSaveWrapper` loads). A tied LM head is
    /// written too (PEFT saves its tied adapter's tensor as well).
    public var peftTensors: [(name: String, offset: Int)] {
        let suffix = wholeMatrices ? "weight" : "token_adapter.trainable_tokens_delta"
        return [("base_model.model.model.embed_tokens." + suffix, embedding), ("base_model.model.lm_head." + suffix, head)]
    }

    /// The tables' starting values for `weights`: new rows as transformers' `resize_token_embeddings` makes them
    /// (mean-resizing; its noise of covariance 1e-9·Σ is left out so the start is deterministic) — the mean of the
    /// old rows, summed in Float64 — and, for whole matrices, the base rows as they are.
    public func initialValues(_ weights: DecoderWeights) -> [Float] {
        var values = [Float](repeating: 0, count: floatCount)
        let entries = weights.layout.entries
        let sources = tied ? [(embedding, weights.layout.embedding)] : [(embedding, weights.layout.embedding), (head, weights.layout.lmHead)]
        for (table, layoutOffset) in sources {
            guard let entry = entries.first(where: { $0.offset == layoutOffset && $0.shape.count == 2 }) else { continue }
            let base = weights.values(of: entry)   // (V, C)
            var mean = [Double](repeating: 0, count: hidden)
            for row in 0..<baseVocab { for j in 0..<hidden { mean[j] += Double(base[row * hidden + j]) } }
            let start = table - offset
            for row in firstRow..<vocab {
                let out = start + (row - firstRow) * hidden
                for j in 0..<hidden {
                    values[out + j] = row < baseVocab ? base[row * hidden + j] : Float(mean[j] / Double(baseVocab))
                }
            }
        }
        return values
    }
}

extension TokenRows {
    /// Embedding lookup with the trained rows: `out (N, C)` rows of tokens in `firstRow..<vocab` replaced by their
    /// table rows (the base gather ran first with those ids clamped into the base vocabulary).
    func replaceEmbeddings(_ out: UnsafeMutablePointer<Float>, _ tokens: UnsafePointer<Int32>, n: Int,
                           _ parameters: UnsafePointer<Float>) {
        let table = parameters + embedding
        for i in 0..<n where Int(tokens[i]) >= firstRow {
            (out + i * hidden).update(from: table + (Int(tokens[i]) - firstRow) * hidden, count: hidden)
        }
    }

    /// `dTable[token] += dInput[i] · scale` for each position whose token has a trained row (the embedding's
    /// backward; `scale` is Gemma's embedding scale, 1 elsewhere).
    func embeddingBackward(_ grads: UnsafeMutablePointer<Float>, _ dInput: UnsafePointer<Float>, _ tokens: UnsafePointer<Int32>,
                           n: Int, scale: Float) {
        let table = grads + embedding
        for i in 0..<n where Int(tokens[i]) >= firstRow {
            let row = table + (Int(tokens[i]) - firstRow) * hidden, d = dInput + i * hidden
            for j in 0..<hidden { row[j] += d[j] * scale }
        }
    }

    /// Token ids with those past the base vocabulary clamped into it, for the base gather (their rows are replaced).
    func clampedForBase(_ tokens: [Int32]) -> [Int32] {
        tokens.map { Int($0) >= baseVocab ? 0 : $0 }
    }

    /// LM-head columns of the trained rows: `logits[:, firstRow..<vocab] (rows, V')= x (rows, C) · tableᵀ`, the
    /// logits' row stride V'.
    func headForward(_ logits: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, rows: Int, _ parameters: UnsafePointer<Float>) {
        matmul(x, .none, lda: hidden, parameters + head, .transposed, ldb: hidden, logits + firstRow, ldc: vocab,
               m: rows, n: rowCount, k: hidden)
    }

    /// The LM-head backward of the trained columns: `dx (rows, C) += dLogits[:, firstRow..] · table` and
    /// `dTable += dLogits[:, firstRow..]ᵀ · x`.
    func headBackward(_ dx: UnsafeMutablePointer<Float>, _ grads: UnsafeMutablePointer<Float>, _ dLogits: UnsafePointer<Float>,
                      _ x: UnsafePointer<Float>, rows: Int, _ parameters: UnsafePointer<Float>) {
        matmul(dLogits + firstRow, .none, lda: vocab, parameters + head, .none, ldb: hidden, dx, ldc: hidden,
               m: rows, n: hidden, k: rowCount, beta: 1)
        matmul(dLogits + firstRow, .transposed, lda: vocab, x, .none, ldb: hidden, grads + head, ldc: hidden,
               m: rowCount, n: hidden, k: rows, beta: 1)
    }
}

/// Rows of `(rows, from)` widened in place to `(rows, to)` (`to ≥ from`; the new columns are left as they were).
func widenRows(_ x: UnsafeMutablePointer<Float>, rows: Int, from: Int, to: Int) {
    guard to != from else { return }
    for r in stride(from: rows - 1, through: 0, by: -1) { (x + r * to).update(from: x + r * from, count: from) }
}

/// Rows of `(rows, from)` narrowed in place to their first `to` columns, packed `(rows, to)`.
func narrowRows(_ x: UnsafeMutablePointer<Float>, rows: Int, from: Int, to: Int) {
    guard to != from else { return }
    for r in 0..<rows { (x + r * to).update(from: x + r * from, count: to) }
}

extension DecoderWeights {
    /// The base resized to the adapter's vocabulary with the trained rows written in (PEFT's merge of a token
    /// adapter: `index_copy` of the rows), in fp32; the same weights when the adapter adds no tokens.
    func withTokenRows(_ adapter: LoRAAdapter) -> DecoderWeights {
        guard let tokens = adapter.tokens else { return self }
        var config = self.config
        config.vocabSize = tokens.vocab
        var result = DecoderWeights(config: config)
        let dense = densified()
        let newEntries = Dictionary(uniqueKeysWithValues: result.layout.entries.map { ($0.name, $0) })
        let c = tokens.hidden
        for entry in layout.entries {
            guard let target = newEntries[entry.name] else { continue }
            let values = dense.values(of: entry)
            result.storage.replaceSubrange(target.offset..<(target.offset + values.count), with: values)
            guard entry.offset == layout.embedding || entry.offset == layout.lmHead else { continue }
            let table = entry.offset == layout.embedding ? tokens.embedding : tokens.head
            let rows = adapter.parameters[table..<(table + tokens.rowCount * c)]
            let start = target.offset + tokens.firstRow * c
            result.storage.replaceSubrange(start..<(start + rows.count), with: rows)
        }
        return result
    }
}

extension LoRAAdapter {
    /// This adapter with `newTokens` added after the vocabulary of `weights` and their rows (or, with
    /// `wholeMatrices`, the whole embedding and LM head) trained, the tables at their starting values
    /// (`TokenRows.initialValues`). An empty list with `wholeMatrices` off leaves the adapter as it is.
    public func addingTokens(_ newTokens: [String], wholeMatrices: Bool, weights: DecoderWeights) throws -> LoRAAdapter {
        precondition(tokens == nil, "the adapter already has token rows")
        guard !newTokens.isEmpty || wholeMatrices else { return self }
        let rows = TokenRows(newTokens: newTokens, baseVocab: weights.config.vocabSize, hidden: weights.config.hiddenSize,
                             wholeMatrices: wholeMatrices, tied: weights.config.tieWordEmbeddings, offset: layout.totalCount)
        return LoRAAdapter(config: config, layout: layout, tokens: rows,
                           parameters: Array(parameters[..<layout.totalCount]) + rows.initialValues(weights))
    }

    /// The adapter that leaves `weights` as they are: LoRA matrices zero, token tables at their starting values
    /// (the base model's behaviour, with the new tokens as resizing makes them). A DoRA adapter's baseline is a
    /// plain LoRA one: a zero magnitude would silence its projections.
    public func baseline(_ weights: DecoderWeights) throws -> LoRAAdapter {
        var plain = config
        plain.useDoRA = false
        let layout = config.useDoRA ? try LoRALayout(lora: plain, model: weights.config) : self.layout
        var values = [Float](repeating: 0, count: layout.totalCount)
        let rows = tokens.map {
            TokenRows(newTokens: $0.newTokens, baseVocab: $0.baseVocab, hidden: $0.hidden, wholeMatrices: $0.wholeMatrices,
                      tied: $0.tied, offset: layout.totalCount)
        }
        if let rows { values += rows.initialValues(weights) }
        return LoRAAdapter(config: plain, layout: layout, tokens: rows, parameters: values)
    }
}

extension GGUFNames {
    /// A base GGUF metadata value for a merged model whose vocabulary gained `newTokens`: the tokens appended to
    /// `tokenizer.ggml.tokens` as CONTROL tokens (type 3, llama.cpp's special tokens, as transformers' GGUF
    /// reader makes special added tokens of them), scores 0, and `<arch>.vocab_size` the new size; others unchanged.
    static func withNewTokens(_ key: String, _ value: GGUFValue, _ newTokens: [String], vocab: Int) -> GGUFValue {
        guard !newTokens.isEmpty else { return value }
        switch key {
        case "tokenizer.ggml.tokens": return .array((value.array ?? []) + newTokens.map { .string($0) })
        case "tokenizer.ggml.token_type": return .array((value.array ?? []) + newTokens.map { _ in .int32(3) })
        case "tokenizer.ggml.scores": return .array((value.array ?? []) + newTokens.map { _ in .float32(0) })
        default: return key.hasSuffix(".vocab_size") && value.int != nil ? .uint32(UInt32(vocab)) : value
        }
    }
}
