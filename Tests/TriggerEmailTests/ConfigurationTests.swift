import SMTP
import Testing
import TriggerEmail

@Suite("Configuration")
struct ConfigurationTests {
    @Test("Defaults without any variable")
    func defaults() throws {
        let configuration = try Configuration.load(environment: [:])

        #expect(configuration.databaseURL == .sqlite(path: "trigger-email.db"))
        #expect(configuration.mailCollection == "mail")
        #expect(configuration.smtp == nil)
        #expect(configuration.lease == .seconds(60))
        #expect(configuration.smtpPoolSize == 4)
        #expect(configuration.ttl == TTLPolicy(unit: .never, value: 1))
        #expect(configuration.outboxDirectory == "outbox")
    }

    @Test("Claimed documents: 32 per connection or MAX_CLAIMED_DOCUMENTS")
    func claimedDocuments() throws {
        let pooled = try Configuration.load(environment: ["SMTP_POOL_SIZE": "3"])
        #expect(pooled.maxClaimedDocuments == nil)
        #expect(MailProcessor.Settings(pooled).maxInFlight == 96)

        let limited = try Configuration.load(environment: ["SMTP_POOL_SIZE": "3", "MAX_CLAIMED_DOCUMENTS": "5"])
        #expect(limited.maxClaimedDocuments == 5)
        #expect(MailProcessor.Settings(limited).maxInFlight == 5)
    }

    @Test("PostgreSQL URL hides its password")
    func postgresURL() throws {
        let configuration = try Configuration.load(environment: [
            "DATABASE_URL": "postgres://mailer:s3cret@db.example.org:5433/mail?password=other&sslmode=require"
        ])

        #expect(configuration.databaseURL == .postgres(url: "postgres://mailer:s3cret@db.example.org:5433/mail?password=other&sslmode=require"))
        #expect(configuration.databaseURL.description == "postgres://mailer:***@db.example.org:5433/mail?password=***&sslmode=require")
    }

    @Test("SMTP URI with user and SMTP_PASSWORD")
    func smtpURIWithPassword() throws {
        let configuration = try Configuration.load(environment: [
            "SMTP_CONNECTION_URI": "smtps://mailer%40example.com@mail.example.com",
            "SMTP_PASSWORD": "p@ss:word",
            "TLS_OPTIONS": #"{"rejectUnauthorized": false, "servername": "mx.example.com"}"#,
        ])
        let smtp = try #require(configuration.smtp)

        #expect(smtp.host == "mail.example.com")
        #expect(smtp.port == 465)
        #expect(smtp.security == .implicitTLS)
        #expect(smtp.credentials == Credentials(user: "mailer@example.com", password: "p@ss:word"))
        #expect(smtp.tls == TLSConfiguration(verifiesCertificate: false, caFile: nil, serverName: "mx.example.com"))
    }

    @Test("SMTP URI defaults and IPv6 literal")
    func smtpURIDefaults() throws {
        let plain = try #require(try Configuration.load(environment: ["SMTP_CONNECTION_URI": "smtp://mail.example.com"]).smtp)
        #expect(plain.port == 587)
        #expect(plain.security == .startTLSWhenOffered)
        #expect(plain.credentials == nil)

        let literal = try #require(try Configuration.load(environment: ["SMTP_CONNECTION_URI": "smtp://[::1]:2525"]).smtp)
        #expect(literal.host == "::1")
        #expect(literal.port == 2525)
        #expect(literal.serverDescription == "[::1]:2525")
    }

    @Test("Flags override the environment")
    func flagsOverride() throws {
        let configuration = try Configuration.load(
            environment: ["MAIL_COLLECTION": "mail", "LEASE_SECONDS": "60"],
            flags: ["MAIL_COLLECTION": "outgoing", "LEASE_SECONDS": "5"])

        #expect(configuration.mailCollection == "outgoing")
        #expect(configuration.lease == .seconds(5))
    }

    @Test("Bad values fail with the variable and the fix")
    func badValues() {
        let cases: [([String: String], String)] = [
            (["LEASE_SECONDS": "0"], "Invalid LEASE_SECONDS: \"0\" is not a whole number greater than 0."),
            (["SMTP_POOL_SIZE": "four"], "Invalid SMTP_POOL_SIZE: \"four\" is not a whole number greater than 0."),
            (["MAX_CLAIMED_DOCUMENTS": "0"], "Invalid MAX_CLAIMED_DOCUMENTS: \"0\" is not a whole number greater than 0."),
            (["TTL_EXPIRE_TYPE": "decade"], "Invalid TTL_EXPIRE_TYPE: \"decade\" is not one of never, hour, day, week, month, year."),
            (["DATABASE_URL": "mysql://user:secret@x"], "Invalid DATABASE_URL: the scheme \"mysql\" is not a database URL; write sqlite:PATH or postgres://USER@HOST:5432/DATABASE."),
            (["API_TOKEN": "   short   "], "Invalid API_TOKEN: the token must be at least 16 characters without spaces; use a long random string, such as the output of openssl rand -hex 32."),
            (["DATABASE_URL": "host=db password=s3cret"], "Invalid DATABASE_URL: the value is not a database URL; write sqlite:PATH or postgres://USER@HOST:5432/DATABASE."),
            (["DATABASE_URL": "mail.db"], "Invalid DATABASE_URL: \"mail.db\" is not a database URL; write sqlite:PATH or postgres://USER@HOST:5432/DATABASE."),
            (["DATABASE_URL": "postgres://db:5432:1/mail"], "Invalid DATABASE_URL: the PostgreSQL URL is invalid; write postgres://USER@HOST:5432/DATABASE and percent-encode special characters."),
            (["MAIL_COLLECTION": "mail/outgoing"], "Invalid MAIL_COLLECTION: \"mail/outgoing\" may contain only letters, digits, '-' and '_' (up to 128)."),
            (["SMTP_CONNECTION_URI": "http://mail.example.com"], "Invalid SMTP_CONNECTION_URI: the scheme \"http\" is not supported; use smtp:// (STARTTLS) or smtps:// (TLS)."),
            (["SMTP_CONNECTION_URI": "smtp://mailer@mail.example.com"], "Invalid SMTP_PASSWORD: SMTP_CONNECTION_URI names the user mailer but no password is set; set SMTP_PASSWORD."),
            (["SMTP_CONNECTION_URI": "smtp://mail.example.com:70000"], "Invalid SMTP_CONNECTION_URI: the port 70000 is not between 1 and 65535."),
            (["SMTP_CONNECTION_URI": "smtp://h", "TLS_OPTIONS": "{\"ciphers\": \"x\"}"], "Invalid TLS_OPTIONS: unsupported option ciphers; supported: ca, minVersion, rejectUnauthorized, servername."),
            (["SMTP_CONNECTION_URI": "smtp://h", "TLS_OPTIONS": "{\"rejectUnauthorized\": \"no\"}"], "Invalid TLS_OPTIONS: rejectUnauthorized must be true or false, not a string."),
            (["SMTP_CONNECTION_URI": "smtp://h", "TLS_OPTIONS": "[]"], "Invalid TLS_OPTIONS: it must be a JSON object such as {\"rejectUnauthorized\": false}."),
            (["LEASE_SECONDS": "9223372036854775807"], "Invalid LEASE_SECONDS: 9223372036854775807 is more than a week; use at most 604800."),
            (["TTL_EXPIRE_TYPE": "year", "TTL_EXPIRE_VALUE": "8000"], "Invalid TTL_EXPIRE_VALUE: 8000 years is more than 100 years; use at most 100."),
            (["TTL_EXPIRE_TYPE": "hour", "TTL_EXPIRE_VALUE": "99999999999"], "Invalid TTL_EXPIRE_VALUE: 99999999999 hours is more than 100 years; use at most 876600."),
            (["LOG_LEVEL": "loud"], "Invalid LOG_LEVEL: \"loud\" is not one of trace, debug, info, notice, warning, error."),
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

    @Test("URI query parameters as nodemailer reads them")
    func uriQueryParameters() throws {
        let configuration = try Configuration.load(environment: [
            "SMTP_CONNECTION_URI": "smtp://mail.example.com?requireTLS=true&name=mx.shop.example&connectionTimeout=5000&greetingTimeout=6000&socketTimeout=7000&pool=true&maxConnections=8&maxMessages=50&tls.rejectUnauthorized=false&tls.servername=smtp.example.net&tls.minVersion=TLSv1.3",
        ])
        let smtp = try #require(configuration.smtp)

        #expect(smtp.startTLS == .required)
        #expect(smtp.heloName == "mx.shop.example")
        #expect(smtp.timeouts.connect == .milliseconds(5000))
        #expect(smtp.timeouts.greeting == .milliseconds(6000))
        #expect(smtp.timeouts.command == .milliseconds(7000))
        #expect(smtp.timeouts.data == .milliseconds(7000))
        #expect(smtp.tls.verifiesCertificate == false)
        #expect(smtp.tls.serverName == "smtp.example.net")
        #expect(smtp.tls.minimumVersion == .tls13)
        #expect(configuration.smtpPoolSize == 8)
        #expect(configuration.smtpMaxMessagesPerConnection == 50)
    }

    @Test("secure and ignoreTLS parameters")
    func secureAndIgnoreTLS() throws {
        let secure = try #require(try Configuration.load(environment: ["SMTP_CONNECTION_URI": "smtp://mail.example.com?secure=true"]).smtp)
        #expect(secure.security == .implicitTLS)
        #expect(secure.port == 465)

        let ignore = try #require(try Configuration.load(environment: ["SMTP_CONNECTION_URI": "smtp://mail.example.com:25?ignoreTLS=true"]).smtp)
        #expect(ignore.startTLS == .never)
        #expect(ignore.port == 25)
    }

    @Test("bad URI query parameters")
    func badURIQueryParameters() {
        let cases: [(String, String)] = [
            ("smtp://h?requireTLS=true&ignoreTLS=true", "Invalid SMTP_CONNECTION_URI: requireTLS and ignoreTLS contradict each other; set one of them."),
            ("smtp://h?colour=blue", "Invalid SMTP_CONNECTION_URI: the query parameter \"colour\" is not supported; supported: secure, requireTLS, ignoreTLS, name, connectionTimeout, greetingTimeout, socketTimeout, pool, maxConnections, maxMessages, tls.rejectUnauthorized, tls.servername, tls.minVersion."),
            ("smtp://h?socketTimeout=soon", "Invalid SMTP_CONNECTION_URI: the query parameter socketTimeout must be a number of milliseconds from 1 to 3600000."),
            ("smtp://h?tls.minVersion=TLSv1", "Invalid SMTP_CONNECTION_URI: the query parameter tls.minVersion must be TLSv1.2 or TLSv1.3."),
            ("smtp://h?secure=maybe", "Invalid SMTP_CONNECTION_URI: the query parameter secure must be true or false."),
        ]
        for (uri, expected) in cases {
            do {
                _ = try Configuration.load(environment: ["SMTP_CONNECTION_URI": uri])
                Issue.record("\(uri) was accepted")
            } catch {
                #expect(error.description == expected)
            }
        }
    }

    @Test("Document commands ignore SMTP settings")
    func documentCommandsIgnoreSMTP() throws {
        let environment = ["SMTP_CONNECTION_URI": "smtp://mailer@mail.example.com", "MAIL_COLLECTION": "outgoing"]

        let configuration = try Configuration.load(environment: environment, readsSMTPSettings: false)
        #expect(configuration.smtp == nil)
        #expect(configuration.mailCollection == "outgoing")
        #expect(throws: ConfigurationError.self) { try Configuration.load(environment: environment) }
    }

    @Test("Password in an unparsable URI is redacted")
    func passwordRedactedInvalidURI() {
        for uri in ["smtp://user:SuperSecret99@127.0.0.1:abc", "smtp://user:SuperSecret99@[::1", "smtp://user:Super/Secret99@host:x"] {
            do {
                _ = try Configuration.load(environment: ["SMTP_CONNECTION_URI": uri])
                Issue.record("\(uri) was accepted")
            } catch {
                #expect(!error.description.contains("SuperSecret99"))
                #expect(!error.description.contains("Secret99"))
            }
        }
    }

    @Test("Password in the URI never appears in an error")
    func passwordRedacted() {
        do {
            _ = try Configuration.load(environment: ["SMTP_CONNECTION_URI": "ftp://user:hunter2@mail.example.com"])
            Issue.record("an ftp URI was accepted")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }
}
