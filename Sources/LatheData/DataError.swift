import LatheFormats

/// Errors of the data stage. Each names the file and what to do; a single bad record is never an error
/// (it goes to `rejected.jsonl`), only conditions that make the whole run meaningless are.
public enum DataError: Error, Equatable, CustomStringConvertible {
    /// An input path could not be opened or read.
    case cannotRead(path: String, reason: String)
    /// An input path is neither a .jsonl/.json/.csv/.parquet file nor a folder of .txt/.md files.
    case unsupportedInput(path: String)
    /// A binary input (Parquet) is damaged or uses a feature that is not read: the reader's error names the
    /// file, row group, column, byte offset and the fix.
    case malformedInput(FormatError)
    /// Too many lines of one input were unreadable (`max_bad_fraction` exceeded).
    case tooManyBadRecords(path: String, bad: Int, seen: Int, limit: Double)
    /// An output file could not be written.
    case cannotWrite(path: String, reason: String)
    /// A configuration value is out of range.
    case invalidConfig(key: String, reason: String)
    /// The ranks of a job (`mpirun`, `srun`) could not exchange a batch, or saw different inputs.
    case exchange(String)

    public var description: String {
        switch self {
        case .cannotRead(let path, let reason):
            return "\(path): cannot read (\(reason)). Check the path and its permissions."
        case .unsupportedInput(let path):
            return "\(path): not a .jsonl, .json, .csv or .parquet file nor a folder of .txt/.md files. Convert it or pass a folder."
        case .malformedInput(let error):
            return error.description
        case .tooManyBadRecords(let path, let bad, let seen, let limit):
            return "\(path): \(bad) of the first \(seen) records are unreadable, over max_bad_fraction \(limit). "
                + "See rejected.jsonl for the reasons, fix the export, or raise --max-bad-fraction."
        case .cannotWrite(let path, let reason):
            return "\(path): cannot write (\(reason)). Check that the output folder exists and is writable."
        case .invalidConfig(let key, let reason):
            return "configuration key '\(key)': \(reason)"
        case .exchange(let reason):
            return "cleaning across ranks: \(reason)"
        }
    }
}
