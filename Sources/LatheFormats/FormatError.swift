/// A problem found while reading or writing a model file: which file, where in it, what is wrong and what to do.
///
/// Every reader in LatheFormats throws this type for malformed input; none of them crash on a hostile file.
public struct FormatError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The broad class of the problem, for callers and tests that branch on it.
    public enum Kind: String, Sendable, Equatable {
        /// The file could not be opened, read, written or renamed.
        case io
        /// The file ends before a structure it announces.
        case truncated
        /// Magic number, version or header framing is wrong.
        case badHeader
        /// A value is out of its allowed range (alignment, dimension count, dtype, lengths, JSON syntax).
        case invalidValue
        /// A size or count computation overflows.
        case overflow
        /// A tensor's byte range lies outside the data section, or overlaps another, or leaves a gap.
        case badLayout
        /// A key or tensor name occurs twice.
        case duplicate
        /// A requested tensor or key does not exist.
        case notFound
        /// The file is valid but uses a feature this reader does not convert (e.g. an integer dtype as floats).
        case unsupported
    }

    /// The broad class of the problem.
    public let kind: Kind
    /// The file (path, or the name given to an in-memory buffer).
    public let file: String
    /// Byte offset in the file where the problem was found, when it has one.
    public let offset: Int?
    /// What is wrong, in one sentence without a trailing period.
    public let problem: String
    /// What the user can do about it.
    public let fix: String

    /// Creates an error; `fix` defaults to the advice for a corrupt or hostile model file.
    public init(_ kind: Kind, file: String, offset: Int? = nil, _ problem: String,
                fix: String = "the file is corrupt or not what it claims to be; download or export it again") {
        self.kind = kind
        self.file = file
        self.offset = offset
        self.problem = problem
        self.fix = fix
    }

    /// `file: at byte N: problem. fix`
    public var description: String {
        let place = offset.map { "\(file): at byte \($0)" } ?? file
        return "\(place): \(problem). Fix: \(fix)."
    }
}
