import Foundation
import LatheFormats
import LatheTensors

/// Predicted peak memory and time of a LoRA training run, before any work: what `lathe plan` prints and what
/// `lathe run` / `lathe train` check before they load anything large.
public struct TrainingPlan: Sendable {
    /// One named part of the predicted peak, in bytes.
    public struct Term: Sendable {
        public let name: String
        public let bytes: Int
        /// What lowers this term, for the refusal message.
        public let remedy: String
    }

    public let config: ModelConfig
    public let terms: [Term]
    /// Useful FLOPs of one optimiser step (every micro-batch of it).
    public let flopsPerStep: Double
    /// Predicted seconds per optimiser step at `efficiency` of the measured sgemm rate.
    public let secondsPerStep: Double
    public let steps: Int
    /// What the plan was made from, so that `fittingChange` can plan variations of it.
    private let inputs: Inputs
    /// Fraction of the measured sgemm rate a training step reaches (`lathe bench train` measured 0.76 on SmolLM2).
    public static let efficiency = 0.7
    /// Process overhead outside the terms: Swift and OpenBLAS runtime, thread stacks, the tokenizer (measured here).
    public static let runtimeBytes = 150 << 20

    /// The plan for `steps` optimiser steps of `accumulation` micro-batches of `batch` rows × `length` tokens, LoRA
    /// `lora`, base `baseBytes` in memory, `recompute` per layer, at a measured sgemm rate of `gflops`.
    public init(config: ModelConfig, baseBytes: Int, lora: LoRAConfig, batch: Int, length: Int, accumulation: Int,
                steps: Int, recompute: Bool, gflops: Double, quantizedHead: Bool = false, lmHeadChunk: Int = 128) throws {
        self.config = config
        let layout = try LoRALayout(lora: lora, model: config)
        let rows = batch * length
        let (kept, layerWorkspace) = DecoderWorkspace.trainingBytes(config: config, lora: layout, rows: rows, recompute: recompute)
        // with few (sequence, key-value head) pairs, the attention backward's partial dk and dv sums
        let workspace = layerWorkspace + 4 * attentionBackwardPartialFloats(
            batch: batch, tokens: length, heads: config.headCount, kvHeads: config.keyValueHeadCount, headDim: config.headDim)
        // parameters, gradients, AdamW m and v; the checkpoint writer copies parameters and moments once more; with
        // DoRA the training and held-out workspaces each keep a copy of A and B, to tell when the row norms are stale.
        let loraBytes = 4 * layout.totalCount * (4 + 3 + (lora.useDoRA ? 2 : 0))
        let lmHeadChunk = quantizedHead ? max(lmHeadChunk, DecoderModel.quantizedLMHeadChunk) : lmHeadChunk
        // logits chunk (chunk, V) twice with soft-capping, gathered rows and their gradient, the dequantisation tile
        let logits = 4 * (lmHeadChunk * config.vocabSize * (config.finalLogitSoftcap == nil ? 1 : 2)
                          + 2 * lmHeadChunk * config.hiddenSize) + 4 * TileScratch.maximumFloats
        terms = [
            Term(name: "base weights", bytes: baseBytes,
                 remedy: "keep the base quantised (train.base_format: auto on a quantised GGUF, or q8_0 / bf16 on load)"),
            Term(name: "LoRA + AdamW moments", bytes: loraBytes, remedy: "lower train.lora.rank or adapt fewer projections"),
            Term(name: "activations", bytes: kept,
                 remedy: recompute ? "lower train.micro_batch_size or tokenize.max_length"
                     : "set train.recompute: true, or lower train.micro_batch_size or tokenize.max_length"),
            Term(name: "workspace", bytes: workspace, remedy: "lower train.micro_batch_size or tokenize.max_length"),
            Term(name: "logits", bytes: logits, remedy: "lower the LM-head chunk"),
            Term(name: "runtime", bytes: Self.runtimeBytes, remedy: "nothing to change"),
        ]
        // recomputation runs every layer's forward twice: half the step's work again, minus the LM head.
        flopsPerStep = Self.flopsPerToken(config, length: length) * Double(rows * accumulation) * (recompute ? 1.5 : 1)
        secondsPerStep = flopsPerStep / (gflops * 1e9 * Self.efficiency)
        self.steps = steps
        inputs = Inputs(baseBytes: baseBytes, lora: lora, batch: batch, length: length, accumulation: accumulation,
                        recompute: recompute, gflops: gflops, quantizedHead: quantizedHead, lmHeadChunk: lmHeadChunk)
    }

    private struct Inputs: Sendable {
        let baseBytes: Int, lora: LoRAConfig, batch: Int, length: Int, accumulation: Int, recompute: Bool
        let gflops: Double, quantizedHead: Bool, lmHeadChunk: Int
    }

    /// A change of one setting that makes a plan fit.
    public enum Change: Sendable, Equatable {
        case recompute
        case microBatch(Int)
        case maxLength(Int)
    }

    /// The first change that brings the peak within `available` bytes, with its peak: recomputation when it is
    /// off, else the largest smaller micro-batch (with the accumulation raised so the tokens per step stay), else
    /// the longest shorter `max_length` (halving down to 64 tokens). Nil when none fits.
    public func fittingChange(available: Int) -> (change: Change, peakBytes: Int)? {
        let i = inputs
        func plan(batch: Int, length: Int, accumulation: Int, recompute: Bool) -> TrainingPlan? {
            try? TrainingPlan(config: config, baseBytes: i.baseBytes, lora: i.lora, batch: batch, length: length,
                              accumulation: accumulation, steps: steps, recompute: recompute, gflops: i.gflops,
                              quantizedHead: i.quantizedHead, lmHeadChunk: i.lmHeadChunk)
        }
        if !i.recompute, let p = plan(batch: i.batch, length: i.length, accumulation: i.accumulation, recompute: true),
           p.peakBytes <= available { return (.recompute, p.peakBytes) }
        for batch in stride(from: i.batch - 1, through: 1, by: -1) {
            let accumulation = i.accumulation * i.batch / batch + (i.accumulation * i.batch % batch == 0 ? 0 : 1)
            if let p = plan(batch: batch, length: i.length, accumulation: accumulation, recompute: i.recompute),
               p.peakBytes <= available { return (.microBatch(batch), p.peakBytes) }
        }
        var length = i.length / 2
        while length >= 64 {
            if let p = plan(batch: 1, length: length, accumulation: i.accumulation, recompute: i.recompute),
               p.peakBytes <= available { return (.maxLength(length), p.peakBytes) }
            length /= 2
        }
        return nil
    }

    /// Predicted peak resident bytes.
    public var peakBytes: Int { terms.reduce(0) { $0 + $1.bytes } }

    /// The largest term.
    public var largest: Term { terms.max { $0.bytes < $1.bytes }! }

    /// Useful FLOPs per trained token with the base frozen: forward (2 per weight) plus the input-gradient
    /// GEMMs of the backward (2 per weight) over every projection and the LM head; causal attention's
    /// QKᵀ and PV (half the T×T scores) once forward and twice backward. LoRA's own work is left out.
    public static func flopsPerToken(_ c: ModelConfig, length: Int) -> Double {
        let (cw, f, q, kv) = (Double(c.hiddenSize), Double(c.intermediateSize), Double(c.headCount * c.headDim),
                              Double(c.keyValueHeadCount * c.headDim))
        let projections = Double(c.layerCount) * (cw * q * 2 + cw * kv * 2 + 3 * cw * f)
        let head = Double(c.vocabSize) * cw
        let attention = Double(c.layerCount) * 2 * 2 * Double(length) / 2 * q
        return 4 * (projections + head) + 3 * attention
    }

    /// Memory this process may still use: `MemAvailable` of /proc/meminfo plus what it already holds (nil when the
    /// file cannot be read).
    public static func availableBytes() -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            return line.split(separator: " ").dropFirst().first.flatMap { Int($0) }.map { $0 * 1024 }
        }
        return nil
    }
}

/// A run refused before any work because its predicted peak exceeds the memory available.
public struct PlanRefusal: Error, CustomStringConvertible {
    public let description: String
}

extension TrainingPlan {
    /// The plan for the base at `path` held as `format` (read from file headers only).
    public static func forModel(_ path: String, format: BaseFormat, lora: LoRAConfig, batch: Int, length: Int,
                                accumulation: Int, steps: Int, recompute: Bool, gflops: Double) throws -> TrainingPlan {
        let (config, bytes, quantized) = try ModelLoader.planBase(path, format: format)
        return try TrainingPlan(config: config, baseBytes: bytes, lora: lora, batch: batch, length: length,
                                accumulation: accumulation, steps: steps, recompute: recompute, gflops: gflops,
                                quantizedHead: quantized)
    }

    /// Throws a `PlanRefusal` naming every term, the largest and what lowers it, and the first single change that
    /// makes the run fit (when one does), when the predicted peak exceeds `available` bytes. `flags` names the
    /// `lathe train` flags instead of recipe keys.
    public func checkFits(available: Int, flags: Bool = false) throws {
        guard peakBytes > available else { return }
        let parts = terms.map { "\($0.name) \(Self.gigabytes($0.bytes))" }.joined(separator: ", ")
        func named(_ text: String) -> String {
            guard flags else { return text }
            var text = text
            for (key, flag) in [("train.recompute: true", "--recompute"), ("train.micro_batch_size: ", "--batch-size "),
                                ("tokenize.max_length: ", "--max-length "), ("train.micro_batch_size", "--batch-size"),
                                ("tokenize.max_length", "--max-length"), ("train.lora.rank", "--rank"),
                                ("train.base_format: auto on a quantised GGUF, or q8_0 / bf16 on load", "--base-format q8_0 or bf16")] {
                text = text.replacingOccurrences(of: key, with: flag)
            }
            return text
        }
        var message = "the run would need \(Self.gigabytes(peakBytes)) at its peak (\(parts)) but "
            + "\(Self.gigabytes(available)) are available; the largest term is \(largest.name) (\(Self.gigabytes(largest.bytes))): \(named(largest.remedy))"
        if let (change, peak) = fittingChange(available: available) {
            let setting: String
            switch change {
            case .recompute: setting = "train.recompute: true"
            case .microBatch(let b): setting = "train.micro_batch_size: \(b) (and gradient accumulation raised to keep the tokens per step)"
            case .maxLength(let t): setting = "tokenize.max_length: \(t)"
            }
            message += "; it fits with \(named(setting)) (peak \(Self.gigabytes(peak)))"
        } else {
            message += "; no change of recomputation, micro-batch or length alone makes it fit"
        }
        throw PlanRefusal(description: message)
    }

    /// Bytes from a size such as `24GB`, `512MB`, `8GiB` or a plain byte count (decimal units are 10^n bytes,
    /// binary ones 2^n); nil when `text` is none of these.
    public static func parseBytes(_ text: String) -> Int? {
        let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("GB", 1e9), ("MB", 1e6),
                                         ("KB", 1e3), ("G", 1e9), ("M", 1e6), ("K", 1e3), ("B", 1)]
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count).trimmingCharacters(in: .whitespaces)
            guard let value = Double(number), value.isFinite, value > 0, value * scale < 1e18 else { return nil }
            return Int(value * scale)
        }
        guard let value = Int(trimmed), value > 0 else { return nil }
        return value
    }

    /// `bytes` as GB with two decimals (10^9 bytes).
    public static func gigabytes(_ bytes: Int) -> String { String(format: "%.2f GB", Double(bytes) / 1e9) }
}

extension ModelLoader {
    /// The config of the model at `path` and the bytes its frozen base would occupy held as `format`, read from the
    /// file headers only (nothing is dequantised).
    public static func planBase(_ path: String, format: BaseFormat) throws -> (config: ModelConfig, bytes: Int, quantized: Bool) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelError.notAModel(path: path, message: "no such file or directory")
        }
        let config: ModelConfig, source: TensorSource, rename: (String) -> String
        if isDirectory.boolValue {
            config = try ModelConfig(configJSON: (path as NSString).appendingPathComponent("config.json"))
            source = try ShardedSafetensors(directory: path)
            rename = { $0 }
        } else {
            let file = try GGUFFile(path: path)
            let gguf = try ModelConfig(gguf: file, file: path)
            (config, source, rename) = (gguf, file, { GGUFNames.ggufName(forHF: $0, config: gguf) })
        }
        let layout = WeightLayout(config: config)
        var types: [(WeightLayout.Entry, GGMLType)] = []
        for entry in layout.entries where entry.shape.count == 2 {
            types.append((entry, try source.quantizedMatrix(rename(entry.name)).type))
        }
        let anyQuantized = types.contains { $0.1 != .f32 }
        var bytes = 4 * layout.vectorCount
        var quantized = false
        for (entry, stored) in types {
            guard let kept = format.keptType(stored: stored, anyQuantized: anyQuantized) else { bytes += 4 * entry.count; continue }
            bytes += entry.count / kept.blockSize * kept.blockBytes
            quantized = true
        }
        return (config, bytes, quantized)
    }
}
