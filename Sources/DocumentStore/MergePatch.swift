extension JSONValue {
    /// Applies a JSON Merge Patch (RFC 7396): `null` removes a member, an object is merged
    /// member by member, anything else replaces the target.
    public func applyingMergePatch(_ patch: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }

        var result = objectValue ?? [:]
        for (key, patchValue) in patchObject {
            if patchValue.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = (result[key] ?? .null).applyingMergePatch(patchValue)
            }
        }
        return .object(result)
    }
}
