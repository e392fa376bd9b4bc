// swift-tools-version: 6.0
import PackageDescription

// Each layer of DESIGN.md is its own target, so an import that points the wrong way does not
// compile. Only the thin C targets (`CSQLite`, `CPostgres`, `COpenSSL`, `CMicroHTTPD`) touch C.
let package = Package(
    name: "trigger-email",
    products: [
        .executable(name: "trigger-email", targets: ["trigger-email"])
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        .systemLibrary(
            name: "CPostgres",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),

        .target(name: "Logging"),
        .target(name: "BlockingThreads"),
        .target(name: "DocumentStore"),
        .target(
            name: "SQLiteStore",
            dependencies: ["DocumentStore", "CSQLite", "BlockingThreads", "Logging"]
        ),
        .target(
            name: "PostgresStore",
            dependencies: ["DocumentStore", "CPostgres", "BlockingThreads", "Logging"]
        ),
        .target(name: "MIME", dependencies: ["COpenSSL"]),
        .target(
            name: "SMTP",
            dependencies: ["COpenSSL", "BlockingThreads", "Logging"]
        ),
        .target(name: "Templates", dependencies: ["DocumentStore"]),
        .target(
            name: "TriggerEmail",
            dependencies: ["DocumentStore", "MIME", "Templates", "SMTP", "BlockingThreads", "Logging"]
        ),
        .target(
            name: "HTTPServer",
            dependencies: ["TriggerEmail", "DocumentStore", "Templates", "CMicroHTTPD", "Logging"]
        ),
        .executableTarget(
            name: "trigger-email",
            dependencies: ["TriggerEmail", "HTTPServer", "SQLiteStore", "PostgresStore", "DocumentStore", "SMTP", "Logging"]
        ),

        .target(
            name: "TestSupport",
            dependencies: ["DocumentStore"],
            path: "Tests/Support",
            exclude: ["python"]
        ),
        .testTarget(name: "DocumentStoreTests", dependencies: ["DocumentStore", "SQLiteStore", "PostgresStore", "CSQLite", "Logging", "TestSupport"]),
        .testTarget(name: "MIMETests", dependencies: ["MIME", "TestSupport"]),
        .testTarget(name: "TemplatesTests", dependencies: ["Templates", "DocumentStore", "TestSupport"]),
        .testTarget(name: "SMTPTests", dependencies: ["SMTP", "Logging", "TestSupport"]),
        .testTarget(name: "TriggerEmailTests", dependencies: ["TriggerEmail", "BlockingThreads", "DocumentStore", "SQLiteStore", "SMTP", "MIME", "Logging", "TestSupport"]),
        .testTarget(
            name: "Integration",
            dependencies: ["trigger-email", "TriggerEmail", "DocumentStore", "SQLiteStore", "SMTP", "Logging", "TestSupport"]
        ),
    ]
)
