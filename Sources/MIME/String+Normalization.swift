import Foundation

extension String {
    /// The string in Unicode normalization form C.
    var precomposedForm: String {
        precomposedStringWithCanonicalMapping
    }
}
