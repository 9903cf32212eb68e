import AuditStore
import Foundation
import NIOSSL
import PostgresNIO

/// A ``PostgresLocation`` and its password turned into postgres-nio's configurations, `sslmode` included.
struct PostgresConnectionSettings: Sendable {
    let location: PostgresLocation
    let password: String?
    let readOnly: Bool
    /// Where `PGSSLROOTCERT` and `HOME` are read.
    var environment: [String: String] = ProcessInfo.processInfo.environment

    /// libpq's modes on postgres-nio's TLS: `disable` plain; `allow`/`prefer` TLS when offered, unverified;
    /// `require` TLS, unverified (as libpq without a root certificate); `verify-ca` the chain checked against
    /// `PGSSLROOTCERT` or `~/.postgresql/root.crt` (else the system roots); `verify-full` the host name too.
    func tlsSetting() -> (configuration: TLSConfiguration, use: Bool, enforce: Bool) {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch location.sslMode {
        case .disable:
            return (configuration, false, false)
        case .allow, .prefer, .require:
            configuration.certificateVerification = .none
            return (configuration, true, location.sslMode == .require)
        case .verifyCA, .verifyFull:
            configuration.certificateVerification = location.sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
            let home = environment["HOME"] ?? NSHomeDirectory()
            let root = environment["PGSSLROOTCERT"] ?? home + "/.postgresql/root.crt"
            if FileManager.default.fileExists(atPath: root) { configuration.trustRoots = .file(root) }
            return (configuration, true, true)
        }
    }

    func tls() -> PostgresClient.Configuration.TLS {
        let setting = tlsSetting()
        guard setting.use else { return .disable }
        return setting.enforce ? .require(setting.configuration) : .prefer(setting.configuration)
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(host: location.host, port: location.port, username: location.user,
                                                         password: password, database: location.database, tls: tls())
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.maximumConnections = 8
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(host: location.host, port: location.port,
                                                             username: location.user, password: password,
                                                             database: location.database, tls: try connectionTLS)
        configuration.options.connectTimeout = .seconds(10)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// A reader's sessions refuse writes on the server side too; every session reads committed data.
    private var startupParameters: [(String, String)] {
        var parameters = [("application_name", "stevedore")]
        if readOnly { parameters.append(("default_transaction_read_only", "on")) }
        return parameters
    }

    private var connectionTLS: PostgresConnection.Configuration.TLS {
        get throws {
            let setting = tlsSetting()
            guard setting.use else { return .disable }
            let context = try NIOSSLContext(configuration: setting.configuration)
            return setting.enforce ? .require(context) : .prefer(context)
        }
    }
}
