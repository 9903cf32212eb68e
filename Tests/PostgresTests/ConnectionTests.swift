import AuditStore
import Foundation
import NIOSSL
@testable import PostgresStore
import Testing
import TestSupport

/// How `--db` URLs, passwords and sslmode are read, and what the migrator runs.
struct ConnectionSettingsTests {
    @Test func parsesURLsWithoutKeepingThePasswordInTheLocation() throws {
        let location = try PostgresLocation(parsing: "postgresql://ci:s%40cret@db.example:6543/audit?sslmode=verify-full",
                                            environment: [:])
        #expect(location.user == "ci")
        #expect(location.urlPassword == "s@cret")
        #expect(location.host == "db.example")
        #expect(location.port == 6543)
        #expect(location.database == "audit")
        #expect(location.sslMode == .verifyFull)
        #expect(location.location == "postgres://ci@db.example:6543/audit?sslmode=verify-full")
        #expect(!location.location.contains("cret"))

        let defaults = try PostgresLocation(parsing: "postgres://db.example", environment: ["USER": "me"])
        #expect(defaults.user == "me")
        #expect(defaults.port == 5432)
        #expect(defaults.database == "me")
        #expect(defaults.sslMode == .prefer)
        #expect(defaults.location == "postgres://me@db.example:5432/me")
    }

    @Test func refusesUnknownModesAndParametersWithoutShowingThePassword() {
        for url in ["postgres://u:hunter2@h/d?sslmode=sometimes", "postgres://u:hunter2@h/d?connect_timeout=3"] {
            do {
                _ = try PostgresLocation(parsing: url, environment: [:])
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error.kind == .cannotOpen)
                #expect(!error.description.contains("hunter2"))
                #expect(error.path == "postgres://u:***@h/d" + url.drop { $0 != "?" })
            }
        }
    }

    @Test func findsThePasswordInTheURLThenPGPASSWORDThenThePasswordFile() throws {
        let home = try TempDirectory.create(prefix: "pgpass")
        defer { home.remove() }
        let file = try home.write(".pgpass", """
            # host:port:database:user:password
            other:5432:*:ci:wrong
            localhost:6543:audit:ci:from\\:file
            *:*:*:*:fallback
            """)
        chmod(file, 0o600)
        let location = try PostgresLocation(parsing: "postgres://ci@127.0.0.1:6543/audit", environment: [:])
        #expect(PostgresCredentials.password(for: location, environment: ["HOME": home.path]) == "from:file")
        #expect(PostgresCredentials.password(for: location, environment: ["HOME": home.path, "PGPASSWORD": "env"]) == "env")
        let withPassword = try PostgresLocation(parsing: "postgres://ci:url@127.0.0.1:6543/audit", environment: [:])
        #expect(PostgresCredentials.password(for: withPassword, environment: ["PGPASSWORD": "env"]) == "url")
        let elsewhere = try PostgresLocation(parsing: "postgres://ci@db.example/other", environment: [:])
        #expect(PostgresCredentials.password(for: elsewhere, environment: ["HOME": home.path]) == "fallback")
        // libpq ignores a password file others can read.
        chmod(file, 0o644)
        #expect(PostgresCredentials.password(for: location, environment: ["HOME": home.path]) == nil)
    }

    @Test func mapsSSLModesOntoTLSSettings() throws {
        func setting(_ mode: String) throws -> (use: Bool, enforce: Bool, verification: CertificateVerification) {
            let location = try PostgresLocation(parsing: "postgres://u@h/d?sslmode=\(mode)", environment: [:])
            let tls = PostgresConnectionSettings(location: location, password: nil, readOnly: false, environment: [:])
                .tlsSetting()
            return (tls.use, tls.enforce, tls.configuration.certificateVerification)
        }
        #expect(try setting("disable").use == false)
        #expect(try setting("prefer") == (true, false, .none))
        #expect(try setting("require") == (true, true, .none))
        #expect(try setting("verify-ca") == (true, true, .noHostnameVerification))
        #expect(try setting("verify-full") == (true, true, .fullVerification))
    }

    @Test func splitsMigrationsIntoStatementsKeepingFunctionBodies() {
        let statements = PostgresMigrator.statements("""
            -- a comment; with a semicolon
            CREATE TABLE t (a text DEFAULT 'x;y');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO t VALUES ('z'); RETURN NULL;
            END;
            $$;
            DROP TABLE t;
            """)
        #expect(statements.count == 3)
        #expect(statements[0].hasSuffix("DEFAULT 'x;y')"))
        #expect(statements[1].contains("RETURN NULL;\nEND;\n$$"))
        #expect(statements[2] == "DROP TABLE t")
        #expect(PostgresMigrator.all.map(\.version) == [1, 2, 3, 4, 5, 6, 7])
    }
}

/// sslmode against a server that speaks TLS with a self-signed certificate.
@Suite(.serialized, .enabled(if: PostgresFixture.isInstalled, "needs Debian's postgresql (make deps)"))
struct TLSConnectionTests {
    @Test func requireAndVerifyFullWithTheServersCertificate() async throws {
        let server = try await PostgresFixture.start(tls: true)
        let database = try await server.createDatabase()
        let base = server.url(database).replacingOccurrences(of: "?sslmode=disable", with: "")
        let required = try await PostgresAuditStore.open(url: base + "?sslmode=require", environment: [:])
        let tlsInUse = try await required.rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").first?.bool(0)
        #expect(tlsInUse == true)
        await required.close()

        let verified = try await PostgresAuditStore.open(url: base + "?sslmode=verify-full",
                                                         environment: ["PGSSLROOTCERT": server.certificate])
        #expect(try await verified.verifyLedger(expectHead: nil).ok)
        await verified.close()

        // Without the certificate as a root, verify-full refuses the server.
        let home = try TempDirectory.create(prefix: "no-roots")
        defer { home.remove() }
        do {
            _ = try await PostgresAuditStore.open(url: base + "?sslmode=verify-full", environment: ["HOME": home.path])
            Issue.record("an unverifiable certificate was accepted")
        } catch {
            #expect(error.kind == .cannotOpen)
            #expect(error.message.contains("its tls certificate did not verify: set PGSSLROOTCERT"))
            #expect(!error.description.contains(server.password))
        }
        await server.stop()
    }

    @Test func requireAgainstAServerWithoutTLSSaysWhatToDo() async throws {
        let server = try await PostgresFixture.start()
        let database = try await server.createDatabase()
        let url = server.url(database).replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
        do {
            _ = try await PostgresAuditStore.open(url: url, environment: [:])
            Issue.record("sslmode=require connected without tls")
        } catch {
            #expect(error.kind == .cannotOpen)
            #expect(error.message.contains("the server does not offer tls"))
        }
        // prefer falls back to a plain connection.
        let preferred = try await PostgresAuditStore.open(url: url.replacingOccurrences(of: "require", with: "prefer"),
                                                          environment: [:])
        await preferred.close()
        await server.stop()
    }
}
