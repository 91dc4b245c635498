import Foundation
import Testing

/// Flags are checked before any work: a bad `--threads` or an enumerated option given a value outside its set
/// is a usage error (exit code 64, ArgumentParser's `EX_USAGE`) whose message says what is allowed.
@Suite struct OptionTests {
    static let usageError: Int32 = 64

    /// Every command with `--threads`, with its other required arguments (never read: validation fails first).
    static let threaded: [[String]] = [
        ["eval", "--model", "m.gguf", "--tasks", "t.yaml", "--out", "o"],
        ["clean", "in.jsonl", "--out", "o"],
        ["train", "--model", "m.gguf", "--data", "d.jsonl", "--out", "o"],
        ["generate", "--model", "m.gguf", "--prompt", "hi"],
        ["bench", "kernels"],
        ["bench", "forward"],
        ["bench", "train"],
        ["bench", "tokenize", "--tokenizer", "t.json"],
        ["bench", "clean"],
        ["bench", "eval"],
    ]

    @Test func evalWithZeroThreadsIsAUsageError() throws {
        let result = try CLI.run(Self.threaded[0] + ["--threads", "0"])
        #expect(result.status == Self.usageError, "\(result.stderr)")
        #expect(result.stderr.contains("--threads must be between 1 and 1024 (got 0)"), "\(result.stderr)")
    }

    @Test func fewshotAsMultiturnNeedsTheChatTemplate() throws {
        let result = try CLI.run(Self.threaded[0] + ["--fewshot-as-multiturn"])
        #expect(result.status == Self.usageError, "\(result.stderr)")
        #expect(result.stderr.contains("--fewshot-as-multiturn needs --apply-chat-template"), "\(result.stderr)")
    }

    @Test(arguments: threaded)
    func threadCountOutsideTheRangeIsAUsageError(_ command: [String]) throws {
        for bad in ["0", "-2", "100000"] {  // `=` so that -2 is read as the value, not as a flag
            let result = try CLI.run(command + ["--threads=\(bad)"])
            #expect(result.status == Self.usageError, "\(command) --threads \(bad): \(result.stderr)")
            #expect(result.stderr.contains("between 1 and 1024"), "\(command) --threads \(bad): \(result.stderr)")
        }
    }

    /// One bad value for each enumerated option, and the values the message must list.
    static let enumerated: [(command: [String], option: String, bad: String, valid: [String])] = [
        (["clean", "in.jsonl", "--out", "o"], "--kind", "chat", ["auto", "web", "instruction"]),
        (["clean", "in.jsonl", "--out", "o"], "--format", "csv", ["text", "prompt_completion", "alpaca", "chat"]),
        (["clean", "in.jsonl", "--out", "o"], "--text-mode", "line", ["file", "paragraph"]),
        (["clean", "in.jsonl", "--out", "o"], "--unicode", "nfd", ["nfc", "nfkc", "none"]),
        (["clean", "in.jsonl", "--out", "o"], "--pii", "email,passport",
         ["all", "none", "email", "phone", "ip_address", "credit_card", "iban", "ssn", "secret"]),
        (["clean", "in.jsonl", "--out", "o"], "--languages", "en,english", ["en", "de", "fr", "cyrillic", "unknown"]),
        (["train", "--model", "m.gguf", "--data", "d.jsonl", "--out", "o"], "--schedule", "step", ["constant", "linear", "cosine"]),
        (["train", "--model", "m.gguf", "--data", "d.jsonl", "--out", "o"], "--train-on", "prompts", ["completions", "all"]),
        (["train", "--model", "m.gguf", "--data", "d.jsonl", "--out", "o"], "--targets", "q_proj,lm_head",
         ["all-linear", "q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]),
        (["export", "run", "--out", "o"], "--format", "onnx", ["peft", "merged", "gguf", "gguf-lora"]),
        (["export", "run", "--format", "peft", "--out", "o"], "--dtype", "q4_0", ["f32", "f16", "bf16", "q8_0"]),
    ]

    @Test(arguments: enumerated.indices)
    func badEnumeratedValueIsAUsageErrorListingTheValues(_ index: Int) throws {
        let (command, option, bad, valid) = Self.enumerated[index]
        let result = try CLI.run(command + [option, bad])
        #expect(result.status == Self.usageError, "\(option) \(bad): \(result.stderr)")
        #expect(result.stderr.contains("'\(bad)'") && result.stderr.contains(option), "\(option) \(bad): \(result.stderr)")
        // ArgumentParser lists up to five values inline ('a', 'b' and 'c'), more as lines of "  - value".
        for value in valid {
            let listed = result.stderr.contains("'\(value)'") || result.stderr.contains("  - \(value)\n")
            #expect(listed, "\(option) \(bad): the message does not list \(value):\n\(result.stderr)")
        }
    }

    /// `--help` shows each enumerated option's values and default.
    @Test func helpListsTheValuesOfEnumeratedOptions() throws {
        let clean = try CLI.run(["clean", "--help"])
        #expect(clean.status == 0)
        let help = clean.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(help.contains("(values: auto, web, instruction; default: auto)"), "\(clean.stdout)")
        #expect(help.contains("(values: nfc, nfkc, none; default: nfc)"), "\(clean.stdout)")
        let train = try CLI.run(["train", "--help"])
        let trainHelp = train.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        #expect(trainHelp.contains("(values: constant, linear, cosine; default: cosine)"), "\(train.stdout)")
    }

    /// The list options reach the pipeline as given: only e-mail addresses are redacted with `--pii email`, and a
    /// record near-duplicating one of the `--decontaminate` file's is dropped.
    @Test func cleanMapsListOptionsAndDecontaminates() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("lathe-options-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let shared = "The quarterly audit of the payment ledger found that every invoice above the approval limit "
            + "had been signed by two managers, as the policy requires for amounts of that size in this region."
        let records = [
            ["text": "Write to jane.doe@example.com or call +1 415-555-2671 about the new contract terms and the renewal date."],
            ["text": shared],
            ["text": "Completely different words describe how the tokenizer splits text into pieces before training starts."],
        ]
        func jsonl(_ rows: [[String: String]]) throws -> String {
            try rows.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
                .joined(separator: "\n") + "\n"
        }
        try jsonl(records).write(to: root.appendingPathComponent("train.jsonl"), atomically: true, encoding: .utf8)
        try jsonl([["text": shared]]).write(to: root.appendingPathComponent("eval.jsonl"), atomically: true, encoding: .utf8)
        let out = root.appendingPathComponent("out").path
        let result = try CLI.run(["clean", root.appendingPathComponent("train.jsonl").path, "--out", out, "--pii", "email",
                                  "--languages", "en", "--no-filters", "--decontaminate", root.appendingPathComponent("eval.jsonl").path,
                                  "--threads", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let cleaned = try String(contentsOfFile: "\(out)/cleaned.jsonl", encoding: .utf8)
        #expect(cleaned.contains("<EMAIL>") && !cleaned.contains("jane.doe@example.com"), "\(cleaned)")
        #expect(cleaned.contains("415-555-2671"), "--pii email must leave phone numbers: \(cleaned)")
        #expect(!cleaned.contains("quarterly audit"), "the record in the --decontaminate file must be dropped: \(cleaned)")
        #expect(cleaned.contains("tokenizer splits text"), "\(cleaned)")
        let rejected = try String(contentsOfFile: "\(out)/rejected.jsonl", encoding: .utf8)
        #expect(rejected.contains("decontamination"), "\(rejected)")
    }
}
