import SMTP
import TriggerEmail

/// `check-smtp`: tries the configured SMTP server without sending mail.
enum CheckSMTPCommand {
    static let command = TriggerEmailCommand.Command(
        name: "check-smtp",
        summary: "Connect to the configured SMTP server and report its extensions, TLS and whether AUTH succeeds, without sending mail.",
        usage: "trigger-email check-smtp [CONFIGURATION FLAGS]",
        valueOptions: [], flagOptions: []
    ) { arguments in
        guard arguments.positional.isEmpty else {
            throw UsageError("check-smtp takes no arguments, but got \(arguments.positional.joined(separator: " ")).")
        }
        let configuration = try Settings.configuration(arguments, readsSMTPSettings: true)
        guard let smtp = configuration.smtp else {
            throw CommandError("No SMTP server is configured: set SMTP_CONNECTION_URI (and SMTP_PASSWORD when it names a user), or AUTH_TYPE=OAuth2 with HOST.")
        }

        let client = try SMTPClient(configuration: smtp, maxConnections: 1, logger: Settings.logger(configuration, label: "smtp"))
        let check = try await client.checkServer()
        print(report(check, server: smtp.serverDescription))
        return check.authenticated == false ? 1 : 0
    }

    static func report(_ check: SMTPServerCheck, server: String) -> String {
        var lines = ["Server: \(server)", "Greeting: \(check.greeting)"]
        lines.append("TLS: " + (check.tlsVersion ?? "none (clear text)"))
        if let certificate = check.certificate {
            lines.append("Certificate subject: \(certificate.subject)")
            lines.append("Certificate issuer: \(certificate.issuer)")
            lines.append("Certificate expires: \(certificate.expires)")
        }
        lines.append("Extensions:")
        for keyword in check.extensions.keys.sorted() {
            let parameters = check.extensions[keyword] ?? ""
            lines.append("  " + (parameters.isEmpty ? keyword : "\(keyword) \(parameters)"))
        }
        switch check.authenticated {
        case nil: lines.append("AUTH: not configured")
        case true?: lines.append("AUTH: succeeded")
        case false?: lines.append("AUTH: failed: \(check.authenticationError ?? "no reason given")")
        }
        return lines.joined(separator: "\n")
    }
}
