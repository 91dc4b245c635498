import Foundation
import LatheSupport

/// Which linear layers get a low-rank adapter and how it is scaled, as PEFT's `LoraConfig`. The one LoRA setting
/// of Lathe: `lathe train`'s flags and a recipe's `train.lora:` section (snake_case keys `rank`, `alpha`, `dropout`,
/// `rslora`, `targets`, `layers`) both decode into it, so both train the same adapter by default.
///
/// Defaults: rank 16, α 32 (scale 2), no dropout, no rsLoRA, no DoRA, every linear projection of the model (PEFT's
/// `all-linear`), every layer — the adapter the quickstart and the README describe.
public struct LoRAConfig: Sendable, Equatable, Codable {
    /// The linear projections of a decoder layer, under their HF module names (PEFT `target_modules`): the seven
    /// of Llama and its relatives, then Phi-3's fused `qkv_proj` (rows q, k, v) and `gate_up_proj` (rows gate, up).
    /// A model has either q/k/v/gate/up or the two fused ones (`ModelConfig.loraModules`). New cases go last:
    /// a module's position keys its initialisation and dropout draws.
    public enum Module: String, Sendable, CaseIterable, Comparable, Codable {
        case q = "q_proj", k = "k_proj", v = "v_proj", o = "o_proj"
        case gate = "gate_proj", up = "up_proj", down = "down_proj"
        case qkv = "qkv_proj", gateUp = "gate_up_proj"

        /// "self_attn" or "mlp": the HF submodule the projection lives in.
        public var parent: String { [.q, .k, .v, .o, .qkv].contains(self) ? "self_attn" : "mlp" }

        /// The projections the layer computes for this module: q, k, v for `qkv`, gate, up for `gateUp`, else itself.
        public var parts: [Module] {
            switch self {
            case .qkv: [.q, .k, .v]
            case .gateUp: [.gate, .up]
            default: [self]
            }
        }

        public static func < (a: Module, b: Module) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    /// Rank r. Default 16.
    public var rank: Int
    /// Scale numerator α (scale α/r, or α/√r with rsLoRA). Default 32.
    public var alpha: Double
    /// Dropout on the LoRA input, in [0, 1). Default 0.
    public var dropout: Double
    /// rsLoRA (Kalajdzievski 2023): scale α/√r instead of α/r. Default false.
    public var useRSLoRA: Bool
    /// Wrapped projections, in `Module.allCases` order whatever order they were given in. `Module.allCases` means
    /// every projection the model has (`all-linear`); a shorter list must name only projections the model has.
    /// Default `Module.allCases`.
    public var targets: [Module]
    /// Layer indices that get adapters; nil means every layer (PEFT `layers_to_transform`). Default nil.
    public var layers: [Int]?
    /// DoRA (Liu et al. 2024, PEFT `use_dora`): a trained magnitude per output row scales the row-normalised
    /// W + s·B·A (`DoRALinear.swift`). Default false.
    public var useDoRA: Bool

    public init(rank: Int = 16, alpha: Double = 32, dropout: Double = 0, useRSLoRA: Bool = false,
                targets: [Module] = Module.allCases, layers: [Int]? = nil, useDoRA: Bool = false) {
        self.rank = rank
        self.alpha = alpha
        self.dropout = dropout
        self.useRSLoRA = useRSLoRA
        self.targets = targets.sorted()
        self.layers = layers
        self.useDoRA = useDoRA
    }

    /// Recipe keys; `CaseIterable` so a recipe's unknown key gets a did-you-mean.
    enum CodingKeys: String, CodingKey, CaseIterable {
        case rank, alpha, dropout, useRSLoRA = "rslora", targets, layers, useDoRA = "use_dora"
    }

    /// Decodes the keys present (a present key must hold a value: `rank: ~` is an error, not the default);
    /// absent keys keep their defaults. Targets are sorted as by `init`.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func value<T: Decodable>(_ key: CodingKeys, _ fallback: T) throws -> T {
            c.contains(key) ? try c.decode(T.self, forKey: key) : fallback
        }
        let defaults = LoRAConfig()
        self.init(rank: try value(.rank, defaults.rank), alpha: try value(.alpha, defaults.alpha),
                  dropout: try value(.dropout, defaults.dropout), useRSLoRA: try value(.useRSLoRA, defaults.useRSLoRA),
                  targets: try value(.targets, defaults.targets), layers: try c.decodeIfPresent([Int].self, forKey: .layers),
                  useDoRA: try value(.useDoRA, defaults.useDoRA))
    }

    /// Multiplier of the low-rank update: α/r, or α/√r with rsLoRA.
    public var scale: Float { Float(useRSLoRA ? alpha / Double(rank).squareRoot() : alpha / Double(rank)) }

    /// True when the targets are every projection of any model (`all-linear`).
    public var targetsAllLinear: Bool { Set(targets) == Set(Module.allCases) }

    /// The adapted projections on a model of `model`: all of its projections for `all-linear`, else `targets`,
    /// each checked to exist in that architecture (Phi-3 has `qkv_proj`, not `q_proj`; Llama the other way round).
    public func targets(for model: ModelConfig) throws -> [Module] {
        let available = model.loraModules
        if targetsAllLinear { return available }
        if let missing = targets.first(where: { !available.contains($0) }) {
            var hint = ""
            if let fused = Module.allCases.first(where: { $0.parts.count > 1 && $0.parts.contains(missing) }), available.contains(fused) {
                hint = " (it is part of the fused \(fused.rawValue) there)"
            } else if missing.parts.count > 1 {
                hint = " (its parts are separate there: \(missing.parts.map(\.rawValue).joined(separator: ", ")))"
            }
            throw ModelError.invalidInput("LoRA target \(missing.rawValue) is not a projection of \(model.architecture.rawValue)\(hint); "
                                          + "its projections are \(available.map(\.rawValue).joined(separator: ", ")), or all-linear")
        }
        return targets
    }

    /// Parses PEFT-style target names: module names or "all-linear".
    public static func modules(named names: [String]) throws -> [Module] {
        if names == ["all-linear"] { return Module.allCases }
        return try names.map { name in
            guard let module = Module(rawValue: name) else {
                let known = Module.allCases.map(\.rawValue).joined(separator: ", ")
                throw ModelError.invalidInput("LoRA target \"\(name)\" is not a projection; use \(known) or all-linear")
            }
            return module
        }
    }
}

/// Where each adapter matrix lives in one flat buffer: A (r, in) then B (out, r) — then, with DoRA, the magnitude
/// m (out) — per adapted (layer, module). Gradients and AdamW moments use the same layout. A fused module (Phi-3's `qkv_proj`, `gate_up_proj`) has one
/// entry, as PEFT has one adapter on the fused linear: A shared by its parts, B's rows split among them.
public struct LoRALayout: Sendable {
    public struct Entry: Sendable {
        /// One projection an entry's adapter feeds: rows `firstRow..<firstRow + rows` of B (all of B unfused).
        public struct Part: Sendable {
            public let module: LoRAConfig.Module
            public let firstRow: Int
            public let rows: Int
        }

        public let layer: Int
        public let module: LoRAConfig.Module
        public let inFeatures: Int
        public let outFeatures: Int
        public let a: Int   // offset of A (r, in)
        public let b: Int   // offset of B (out, r)
        /// Offset of the DoRA magnitude m (out); nil without DoRA.
        public let magnitude: Int?
        /// The projections the adapter feeds, in B's row order.
        public let parts: [Part]

        /// PEFT's tensor name for A or B, as in `adapter_model.safetensors`.
        public func peftName(_ matrix: String) -> String {
            "base_model.model.model.layers.\(layer).\(module.parent).\(module.rawValue).lora_\(matrix).weight"
        }

        /// PEFT's saved name of the DoRA magnitude (in memory `lora_magnitude_vector.default.weight`).
        public var peftMagnitudeName: String {
            "base_model.model.model.layers.\(layer).\(module.parent).\(module.rawValue).lora_magnitude_vector"
        }

        /// Every trained tensor of the entry: PEFT name, shape, and its range in the flat buffer — A, B, then m.
        public func tensors(rank: Int) -> [(name: String, shape: [Int], range: Range<Int>)] {
            var result: [(name: String, shape: [Int], range: Range<Int>)] = [
                (peftName("A"), [rank, inFeatures], a..<(a + rank * inFeatures)),
                (peftName("B"), [outFeatures, rank], b..<(b + outFeatures * rank)),
            ]
            if let magnitude { result.append((peftMagnitudeName, [outFeatures], magnitude..<(magnitude + outFeatures))) }
            return result
        }
    }

    public let rank: Int
    public let entries: [Entry]
    /// The adapted projections, in `Module.allCases` order (`LoRAConfig.targets` resolved for the model).
    public let targets: [LoRAConfig.Module]
    /// entries index by [layer][module], nil where the projection is not adapted.
    private let index: [[LoRAConfig.Module: Int]]
    public let totalCount: Int

    public init(lora: LoRAConfig, model: ModelConfig) throws {
        guard lora.rank >= 1, lora.rank <= 4096 else { throw ModelError.invalidInput("LoRA rank must be in 1...4096 (got \(lora.rank))") }
        guard lora.dropout >= 0, lora.dropout < 1 else { throw ModelError.invalidInput("LoRA dropout must be in [0, 1) (got \(lora.dropout))") }
        let targets = try lora.targets(for: model)
        let layers = lora.layers ?? Array(0..<model.layerCount)
        if let bad = layers.first(where: { $0 < 0 || $0 >= model.layerCount }) {
            throw ModelError.invalidInput("LoRA layer \(bad) does not exist; the model has layers 0..<\(model.layerCount)")
        }
        let (c, f, q, kv) = (model.hiddenSize, model.intermediateSize, model.headCount * model.headDim,
                             model.keyValueHeadCount * model.headDim)
        let shapes: [LoRAConfig.Module: (in: Int, out: Int)] = [
            .q: (c, q), .k: (c, kv), .v: (c, kv), .o: (q, c), .gate: (c, f), .up: (c, f), .down: (f, c),
        ]
        var entries: [Entry] = []
        var index = Array(repeating: [LoRAConfig.Module: Int](), count: model.layerCount)
        var next = 0
        for layer in Set(layers).sorted() {
            for module in targets {
                var parts: [Entry.Part] = []
                for part in module.parts {
                    parts.append(Entry.Part(module: part, firstRow: parts.last.map { $0.firstRow + $0.rows } ?? 0,
                                            rows: shapes[part]!.out))
                }
                let inFeatures = shapes[module.parts[0]]!.in
                let outFeatures = parts.map(\.rows).reduce(0, +)
                let b = next + lora.rank * inFeatures
                let entry = Entry(layer: layer, module: module, inFeatures: inFeatures, outFeatures: outFeatures,
                                  a: next, b: b, magnitude: lora.useDoRA ? b + outFeatures * lora.rank : nil, parts: parts)
                next = b + outFeatures * lora.rank + (lora.useDoRA ? outFeatures : 0)
                index[layer][module] = entries.count
                entries.append(entry)
            }
        }
        self.rank = lora.rank
        self.entries = entries
        self.targets = targets
        self.index = index
        self.totalCount = next
    }

    /// Every trained tensor, entry by entry (`Entry.tensors`): what a PEFT file and a checkpoint hold.
    public var tensors: [(name: String, shape: [Int], range: Range<Int>)] { entries.flatMap { $0.tensors(rank: rank) } }

    /// The adapter on `module` of `layer`, if any.
    public func entry(layer: Int, module: LoRAConfig.Module) -> Entry? {
        index[layer][module].map { entries[$0] }
    }
}

extension ModelConfig {
    /// The linear projections of a layer that take an adapter, as PEFT's `all-linear` finds them: Phi-3's fused
    /// `qkv_proj`, `o_proj`, `gate_up_proj`, `down_proj`, or the seven separate ones.
    public var loraModules: [LoRAConfig.Module] {
        fusedProjections ? [.o, .down, .qkv, .gateUp] : [.q, .k, .v, .o, .gate, .up, .down]
    }
}

/// Trainable LoRA parameters for one model, in one flat buffer described by `layout`.
public struct LoRAAdapter: Sendable {
    public let config: LoRAConfig
    public let layout: LoRALayout
    /// Tokens the adapter adds and the embedding / LM-head rows it trains (after the LoRA matrices in `parameters`).
    public let tokens: TokenRows?
    /// LoRA matrices, then the token tables.
    public var parameters: [Float]

    /// Floats in `parameters` (and in its gradients and moments).
    public var parameterCount: Int { layout.totalCount + (tokens?.floatCount ?? 0) }

    /// A fresh adapter initialised as PEFT does: A Kaiming-uniform with a = √5 (bound 1/√in), B zeros.
    /// The draw comes from `seed`, so the same seed gives the same adapter. A DoRA magnitude is the row norms of the
    /// base, which this initialiser cannot see: it is left NaN until `DecoderModel.initializeMagnitudes` sets it
    /// (training refuses an adapter whose magnitudes are not set).
    public init(config: LoRAConfig, model: ModelConfig, seed: UInt64) throws {
        self.config = config
        self.layout = try LoRALayout(lora: config, model: model)
        self.tokens = nil
        var parameters = [Float](repeating: 0, count: layout.totalCount)
        for entry in layout.entries {
            var random = SplitMix64(seed: CounterRandom.key(seed, 0x4C6F5241, UInt64(entry.layer),
                                                            UInt64(LoRAConfig.Module.allCases.firstIndex(of: entry.module)!)))
            let bound = 1 / Double(entry.inFeatures).squareRoot()
            for i in 0..<(config.rank * entry.inFeatures) {
                parameters[entry.a + i] = Float((random.nextUnit() * 2 - 1) * bound)
            }
            if let m = entry.magnitude { for i in m..<(m + entry.outFeatures) { parameters[i] = .nan } }
        }
        self.parameters = parameters
    }

    /// An adapter with given parameters (loaded from a checkpoint or a PEFT export).
    public init(config: LoRAConfig, layout: LoRALayout, tokens: TokenRows? = nil, parameters: [Float]) {
        precondition(parameters.count == layout.totalCount + (tokens?.floatCount ?? 0))
        self.config = config
        self.layout = layout
        self.tokens = tokens
        self.parameters = parameters
    }
}
