extension Unicode.Scalar {
    /// Whether this is a C0 control other than tab, or DEL: characters no header field may carry
    /// as they are, because a reader cannot show them and CR or LF would end the field.
    public var isHeaderControlCharacter: Bool {
        (value < 0x20 && self != "\t") || value == 0x7F
    }
}
