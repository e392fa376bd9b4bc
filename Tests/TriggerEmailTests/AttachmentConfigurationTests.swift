import Testing
import TriggerEmail

@Suite("Attachment configuration")
struct AttachmentConfigurationTests {
    @Test("Defaults without variables")
    func defaults() throws {
        let configuration = try Configuration.load(environment: [:])

        #expect(configuration.attachments == AttachmentSettings())
    }

    @Test("Every variable is read")
    func variables() throws {
        let configuration = try Configuration.load(environment: [
            "ATTACHMENT_MAX_BYTES": "1024",
            "ATTACHMENT_MAX_TOTAL_BYTES": "4096",
            "ATTACHMENT_FETCH_TIMEOUT_SECONDS": "5",
            "ATTACHMENT_ALLOW_PRIVATE_ADDRESSES": "TRUE",
            "ATTACHMENT_DIRECTORY": "/srv/mail-files",
        ])
        let settings = configuration.attachments

        #expect(settings.maxBytes == 1024)
        #expect(settings.maxTotalBytes == 4096)
        #expect(settings.fetchTimeout == .seconds(5))
        #expect(settings.allowPrivateAddresses == true)
        #expect(settings.allowedDirectory == "/srv/mail-files")
    }

    @Test("false and empty values keep the defaults")
    func falseAndEmpty() throws {
        let configuration = try Configuration.load(environment: ["ATTACHMENT_ALLOW_PRIVATE_ADDRESSES": "false", "ATTACHMENT_DIRECTORY": ""])

        #expect(configuration.attachments.allowPrivateAddresses == false)
        #expect(configuration.attachments.allowedDirectory == nil)
    }

    @Test("Flags override attachment variables")
    func flags() throws {
        let configuration = try Configuration.load(environment: ["ATTACHMENT_MAX_BYTES": "10"], flags: ["ATTACHMENT_MAX_BYTES": "20"])

        #expect(configuration.attachments.maxBytes == 20)
    }

    @Test("Bad attachment values")
    func badValues() {
        let cases: [(environment: [String: String], expected: String)] = [
            (["ATTACHMENT_MAX_BYTES": "10MB"], "Invalid ATTACHMENT_MAX_BYTES: \"10MB\" is not a whole number greater than 0."),
            (["ATTACHMENT_MAX_BYTES": "0"], "Invalid ATTACHMENT_MAX_BYTES: \"0\" is not a whole number greater than 0."),
            (["ATTACHMENT_MAX_TOTAL_BYTES": "-1"], "Invalid ATTACHMENT_MAX_TOTAL_BYTES: \"-1\" is not a whole number greater than 0."),
            (["ATTACHMENT_FETCH_TIMEOUT_SECONDS": "1.5"], "Invalid ATTACHMENT_FETCH_TIMEOUT_SECONDS: \"1.5\" is not a whole number greater than 0."),
            (["ATTACHMENT_ALLOW_PRIVATE_ADDRESSES": "yes"], "Invalid ATTACHMENT_ALLOW_PRIVATE_ADDRESSES: \"yes\" is not true or false."),
        ]
        for (environment, expected) in cases {
            #expect(throws: ConfigurationError.self) { try Configuration.load(environment: environment) }
            do {
                _ = try Configuration.load(environment: environment)
            } catch {
                #expect(error.description == expected)
            }
        }
    }

    @Test("Variables are listed for the help text")
    func listed() {
        let names = Configuration.variables.map(\.name)

        for name in ["ATTACHMENT_MAX_BYTES", "ATTACHMENT_MAX_TOTAL_BYTES", "ATTACHMENT_FETCH_TIMEOUT_SECONDS", "ATTACHMENT_ALLOW_PRIVATE_ADDRESSES", "ATTACHMENT_DIRECTORY"] {
            #expect(names.contains(name), "\(name)")
        }
    }
}
