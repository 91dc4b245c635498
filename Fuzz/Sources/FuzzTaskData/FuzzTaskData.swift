// libFuzzer entry for lm-eval task data files (TaskDocuments): the first byte picks CSV (odd) or JSONL (even), the
// rest is the file. Any input must give documents or an EvaluationError naming the file and the line or row.
import FuzzSupport
import LatheEvaluation

/// Parses `data` as a task's data file.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let file = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    _ = try? TaskDocuments.parse(file, csv: data[0] & 1 == 1, path: "fuzz-task-data")
    return 0
}
