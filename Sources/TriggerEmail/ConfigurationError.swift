/// A configuration value that cannot be used, named by its variable, with what to write instead.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var variable: String
    public var message: String

    public init(variable: String, message: String) {
        self.variable = variable
        self.message = message
    }

    public var description: String { "Invalid \(variable): \(message)" }
}
