// libFuzzer entry for lm-eval task YAML (TaskConfig): keys, templates, filters, metrics.
// Any input must give a TaskConfig or an EvaluationError naming the file and key.
import FuzzSupport
import LatheEvaluation

/// Parses `data` as a task file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    _ = try? TaskConfig(yaml: text(UnsafeBufferPointer(start: data, count: size)), file: "\(fuzzScratch)/tasks/fuzz.yaml")
    return 0
}
