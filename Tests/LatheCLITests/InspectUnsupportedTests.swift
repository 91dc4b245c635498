import Foundation
import Testing

/// `lathe inspect` on a model whose architecture Lathe cannot run: it shows the metadata and the tensor table,
/// says the architecture is not supported and exits 0. The files are written byte by byte here (GGUF v3 and
/// safetensors layouts), so the test needs no fixture and no library of Lathe's.
@Suite struct InspectUnsupportedTests {
    static func temporaryPath(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("inspect-\(UUID().uuidString)-\(name)")
    }

    /// A GGUF v3 file with `general.architecture = mamba`, a u32 and a float key, and two F32 tensors.
    static func mambaGGUF() -> Data {
        var bytes = Data("GGUF".utf8)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
        func string(_ s: String) { u64(UInt64(s.utf8.count)); bytes.append(contentsOf: Array(s.utf8)) }
        u32(3); u64(2); u64(3)                                  // version, tensors, metadata keys
        string("general.architecture"); u32(8); string("mamba")  // type 8: string
        string("mamba.block_count"); u32(4); u32(1)             // type 4: uint32
        string("mamba.ssm.conv_kernel"); u32(6); withUnsafeBytes(of: Float(4).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        // Tensor infos: name, dims (ggml order: fastest first), type 0 = F32, offset in the data section.
        string("token_embd.weight"); u32(2); u64(4); u64(3); u32(0); u64(0)
        string("blk.0.ssm_a"); u32(1); u64(4); u32(0); u64(64)
        while bytes.count % 32 != 0 { bytes.append(0) }
        bytes.append(Data(count: 64 + 16))                      // 12 floats, aligned to 64, then 4 floats
        return bytes
    }

    @Test func ggufOfAnUnsupportedArchitectureShowsMetadataAndTensors() throws {
        let file = Self.temporaryPath("mamba.gguf")
        try Self.mambaGGUF().write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try CLI.run(["inspect", file.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("mamba (not supported"))
        #expect(result.stdout.contains("architecture \"mamba\" is not supported"))
        #expect(result.stdout.contains("metadata (3 keys)"))
        #expect(result.stdout.range(of: #"mamba\.block_count\s+1\n"#, options: .regularExpression) != nil)
        #expect(result.stdout.contains("tensors (2)"))
        // PyTorch order: ggml's (4, 3) is a (3, 4) matrix.
        #expect(result.stdout.range(of: #"token_embd\.weight\s+F32\s+\[3, 4\]"#, options: .regularExpression) != nil)
        #expect(result.stdout.range(of: #"blk\.0\.ssm_a\s+F32\s+\[4\]"#, options: .regularExpression) != nil)
        #expect(result.stdout.contains("parameters                   16"))
    }

    @Test func hfDirectoryOfAnUnsupportedArchitectureShowsConfigAndTensors() throws {
        let directory = Self.temporaryPath("mamba-hf")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(#"{"architectures": ["MambaForCausalLM"], "hidden_size": 4, "model_type": "mamba"}"#.utf8)
            .write(to: directory.appendingPathComponent("config.json"))
        var header = #"{"backbone.embeddings.weight":{"dtype":"BF16","shape":[3,4],"data_offsets":[0,24]}}"#
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var weights = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { weights.append(contentsOf: $0) }
        weights.append(Data(header.utf8))
        weights.append(Data(count: 24))
        try weights.write(to: directory.appendingPathComponent("model.safetensors"))
        let result = try CLI.run(["inspect", directory.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("MambaForCausalLM (not supported"))
        #expect(result.stdout.range(of: #"hidden_size\s+4\n"#, options: .regularExpression) != nil)
        #expect(result.stdout.range(of: #"backbone\.embeddings\.weight\s+BF16\s+\[3, 4\]"#, options: .regularExpression) != nil)
    }
}
