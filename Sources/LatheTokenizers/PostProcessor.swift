import LatheFormats

/// A post-processor from `tokenizer.json` (what `add_special_tokens` adds); the cases are HF's `"type"` strings.
public indirect enum PostProcessor: Sendable {
    /// The single-sequence template: special-token ids around `$A`.
    case TemplateProcessing(single: [TemplatePiece])
    /// Offsets only; ids unchanged.
    case ByteLevel
    /// Each processor in turn.
    case Sequence([PostProcessor])

    /// One element of a template: a special token's ids, or the sequence itself.
    public enum TemplatePiece: Sendable, Equatable { case special([Int32]), sequence }

    /// Builds a post-processor from its JSON object; unknown types throw `unsupportedComponent`.
    static func from(_ node: JSONNode) throws -> PostProcessor {
        let type = try node.required("type").string()
        switch type {
        case "ByteLevel": return .ByteLevel
        case "Sequence": return .Sequence(try node.required("processors").array().map(PostProcessor.from))
        case "TemplateProcessing":
            var specials = [String: [Int32]]()
            if let map = try node.optional("special_tokens") {
                for (name, entry) in try map.members() {
                    specials[name] = try entry.required("ids").array().map { try $0.tokenId() }
                }
            }
            let single = try node.required("single").array().map { item -> TemplatePiece in
                if let s = try item.optional("SpecialToken") {
                    let id = try s.required("id").string()
                    guard let ids = specials[id] else { throw s.fail("special token \"\(id)\" is not in special_tokens") }
                    return .special(ids)
                }
                if try item.optional("Sequence") != nil { return .sequence }
                throw item.fail("expected {\"SpecialToken\": …} or {\"Sequence\": …}")
            }
            return .TemplateProcessing(single: single)
        default:
            throw TokenizerError.unsupportedComponent(file: node.file, path: node.path + ".type", type: type)
        }
    }

    /// The ids with this processor's special tokens added.
    public func apply(_ ids: [Int32]) -> [Int32] {
        switch self {
        case .TemplateProcessing(let single):
            var out = [Int32](); out.reserveCapacity(ids.count + 4)
            for piece in single {
                switch piece {
                case .special(let s): out.append(contentsOf: s)
                case .sequence: out.append(contentsOf: ids)
                }
            }
            return out
        case .ByteLevel: return ids
        case .Sequence(let list): return list.reduce(ids) { $1.apply($0) }
        }
    }
}
