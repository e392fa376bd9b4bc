/// The reason a URL could not be fetched, before the loader words it with the attachment's name
/// and limits.
enum FetchFailure: Error, Equatable {
    /// The URL or a redirect may not be followed, or the server failed; the text continues a
    /// sentence about the attachment, such as "points to a loopback address (127.0.0.1); ...".
    case refused(String)
    /// The fetch timeout passed.
    case timedOut
    /// The body grew past the size limit, or its declared length is past it.
    case tooLarge
}
