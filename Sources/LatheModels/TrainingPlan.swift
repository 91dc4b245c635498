import Foundation
import LatheFormats

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
        let (kept, workspace) = DecoderWorkspace.trainingBytes(config: config, lora: layout, rows: rows, recompute: recompute)
        // parameters, gradients, AdamW m and v; the checkpoint writer copies parameters and moments once more.
        let loraBytes = 4 * layout.totalCount * (4 + 3)
        let lmHeadChunk = quantizedHead ? max(lmHeadChunk, DecoderModel.quantizedLMHeadChunk) : lmHeadChunk
        // logits chunk (chunk, V) twice with soft-capping, gathered rows and their gradient, the dequantisation tile
        let logits = 4 * (lmHeadChunk * config.vocabSize * (config.finalLogitSoftcap == nil ? 1 : 2)
                          + 2 * lmHeadChunk * config.hiddenSize) + 4 * TileScratch.floats * 4
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

    /// Throws a `PlanRefusal` naming every term, the largest and what lowers it when the predicted peak exceeds
    /// `available` bytes. `flags` names the `lathe train` flags instead of recipe keys.
    public func checkFits(available: Int, flags: Bool = false) throws {
        guard peakBytes > available else { return }
        let parts = terms.map { "\($0.name) \(Self.gigabytes($0.bytes))" }.joined(separator: ", ")
        var remedy = largest.remedy
        if flags {
            for (key, flag) in [("train.recompute: true", "--recompute"), ("train.micro_batch_size", "--batch-size"),
                                ("tokenize.max_length", "--max-length"), ("train.lora.rank", "--rank"),
                                ("train.base_format: auto on a quantised GGUF, or q8_0 / bf16 on load", "--base-format q8_0 or bf16")] {
                remedy = remedy.replacingOccurrences(of: key, with: flag)
            }
        }
        throw PlanRefusal(description: "the run would need \(Self.gigabytes(peakBytes)) at its peak (\(parts)) but "
            + "\(Self.gigabytes(available)) are available; the largest term is \(largest.name) (\(Self.gigabytes(largest.bytes))): \(remedy)")
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
            let gguf = try ModelConfig(ggufMetadata: file.metadata, tensorNames: Set(file.tensorNames), file: path)
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
