/// A failed store operation, with a sentence saying what was wrong and what to do.
public struct DocumentStoreError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The document does not exist.
        case notFound
        /// A document with that ID already exists.
        case alreadyExists
        /// The caller passed something the store cannot accept (a bad ID, a bad page token).
        case invalidArgument
        /// The document's stored JSON cannot be read (see `UnreadableDocument`), so it cannot be
        /// changed until it is corrected with SQL.
        case unreadable
        /// The database failed: it is unreachable, locked for too long, corrupt or full.
        case storage
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
