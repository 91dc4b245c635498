extension GGUFParser {
    /// Reads `count` tensor infos, each checked on its own (name, dimensions, type, size, alignment).
    mutating func tensorInfos(_ count: Int, alignment: Int) throws -> [GGUFTensorInfo] {
        var infos: [GGUFTensorInfo] = []
        infos.reserveCapacity(count)
        var seen = Set<String>()
        for _ in 0 ..< count {
            let start = r.offset
            let name = try string("a tensor name")
            guard name.utf8.count < GGUFFile.maxNameLength else {
                throw fail(.invalidValue, at: start, "tensor name \"\(name.prefix(80))\" is \(name.utf8.count) bytes, ggml allows at most \(GGUFFile.maxNameLength - 1)")
            }
            guard seen.insert(name).inserted else { throw fail(.duplicate, at: start, "duplicate tensor name \"\(name)\"") }
            let dims = try r.u32("the dimension count of \"\(name)\"")
            guard dims <= GGUFFile.maxDimensions else {
                throw fail(.invalidValue, at: r.offset - 4, "tensor \"\(name)\" has \(dims) dimensions, ggml allows at most \(GGUFFile.maxDimensions)")
            }
            var ne: [Int] = []
            for _ in 0 ..< dims {
                let raw = try r.load(Int64.self, "a dimension of \"\(name)\"")
                guard raw >= 0 else { throw fail(.invalidValue, at: r.offset - 8, "tensor \"\(name)\" has a negative dimension \(raw)") }
                ne.append(Int(raw))
            }
            let typeOffset = r.offset
            let rawType = try r.u32("the type of \"\(name)\"")
            guard let type = GGMLType(rawValue: rawType) else {
                throw fail(.invalidValue, at: typeOffset, "tensor \"\(name)\" has unknown ggml type \(rawType)")
            }
            let (elements, bytes) = try size(name, ne, type, at: start)
            let offsetAt = r.offset
            let rawOffset = try r.u64("the data offset of \"\(name)\"")
            guard rawOffset <= UInt64(Int.max), Int(rawOffset) % alignment == 0 else {
                throw fail(.badLayout, at: offsetAt, "tensor \"\(name)\" data offset \(rawOffset) is not a multiple of the alignment \(alignment)")
            }
            infos.append(GGUFTensorInfo(name: name, ne: ne, type: type, offset: Int(rawOffset), byteCount: bytes, elementCount: elements))
        }
        return infos
    }

    /// Element count and byte size, refusing rows that are not whole blocks and products that overflow int64.
    func size(_ name: String, _ ne: [Int], _ type: GGMLType, at start: Int) throws -> (elements: Int, bytes: Int) {
        let first = ne.first ?? 1
        guard first % type.blockSize == 0 else {
            throw fail(.invalidValue, at: start, "tensor \"\(name)\" row length \(first) is not a multiple of the \(type.name) block size \(type.blockSize)")
        }
        var elements = 1
        var (bytes, overflowB) = (first / type.blockSize).multipliedReportingOverflow(by: type.blockBytes)
        for (k, dim) in ne.enumerated() {
            let (e, overflowE) = elements.multipliedReportingOverflow(by: dim)
            if k > 0 { (bytes, overflowB) = bytes.multipliedReportingOverflow(by: dim) }
            guard !overflowE, !overflowB else {
                throw fail(.overflow, at: start, "tensor \"\(name)\" dimensions \(ne) overflow the element or byte count")
            }
            elements = e
        }
        return (elements, bytes)
    }

    /// Every tensor lies inside the file after `dataStart`, and no two overlap.
    func checkLayout(_ tensors: [GGUFTensorInfo], dataStart: Int) throws {
        guard !tensors.isEmpty else { return }
        let fileSize = r.bytes.count
        guard dataStart <= fileSize else {
            throw fail(.truncated, at: fileSize, "the data section would start at byte \(dataStart), past the end of the \(fileSize)-byte file")
        }
        let dataSize = fileSize - dataStart
        for info in tensors where info.offset > dataSize || info.byteCount > dataSize - info.offset {
            throw fail(.truncated, at: fileSize,
                       "tensor \"\(info.name)\" needs bytes \(info.offset)..<\(info.offset &+ info.byteCount) of the data section, which holds only \(dataSize)")
        }
        let sorted = tensors.sorted { $0.offset < $1.offset }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.offset + a.byteCount > b.offset {
            throw fail(.badLayout, at: dataStart + b.offset, "tensor \"\(b.name)\" overlaps tensor \"\(a.name)\"")
        }
    }
}
