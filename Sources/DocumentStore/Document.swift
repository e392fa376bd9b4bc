/// A stored JSON document: its fields plus the identity and times the store keeps for it.
public struct Document: Sendable, Equatable {
    public var id: String
    public var collection: String
    /// When the document was first written.
    public var createTime: Timestamp
    /// When the document was last written, by anyone.
    public var updateTime: Timestamp
    public var data: JSONObject

    public init(id: String, collection: String, createTime: Timestamp, updateTime: Timestamp, data: JSONObject) {
        self.id = id
        self.collection = collection
        self.createTime = createTime
        self.updateTime = updateTime
        self.data = data
    }

    /// The document in the shape the command line and the HTTP API print:
    /// `{"id", "collection", "createTime", "updateTime", "data"}`.
    public var jsonValue: JSONValue {
        .object([
            "id": .string(id),
            "collection": .string(collection),
            "createTime": .string(createTime.description),
            "updateTime": .string(updateTime.description),
            "data": .object(data),
        ])
    }
}
