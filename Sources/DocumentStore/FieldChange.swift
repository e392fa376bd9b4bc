/// Rules that every store applies the same way when it writes one field instead of a document.
public enum FieldChange {
    /// Checks a field name for `updateFieldBatch`: ASCII letters, digits and `_`, so that it can
    /// go into a JSON path or an SQL array literal without quoting.
    public static func validateFieldName(_ field: String) throws(DocumentStoreError) {
        let isFieldNameByte = { (byte: UInt8) in
            byte == UInt8(ascii: "_") || (byte >= 0x30 && byte <= 0x39) || ((byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A)
        }
        guard !field.isEmpty, field.utf8.allSatisfy(isFieldNameByte) else {
            throw DocumentStoreError(.invalidArgument, "Invalid field name \"\(field)\": use letters, digits and '_'.")
        }
    }

    /// Returns whether `new` has the field `field` and equals `old` in every other field, so that
    /// a store may write that one field alone.
    public static func onlyFieldDiffers(_ field: String, _ new: JSONObject, _ old: JSONObject) -> Bool {
        guard new[field] != nil, new.count == old.count || (new.count == old.count + 1 && old[field] == nil) else {
            return false
        }
        for (key, value) in new where key != field {
            guard old[key] == value else { return false }
        }
        return true
    }
}
