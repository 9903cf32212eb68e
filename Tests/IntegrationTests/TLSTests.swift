import Foundation
import Testing
import TestSupport

/// htpasswd over HTTPS with a private CA, against the real registry.
@Suite(.serialized) struct TLSTests {
    static let password = "tls-password-0123456789"

    /// A CA and a server certificate for 127.0.0.1 signed by it, made with openssl.
    func makeCertificates(in directory: String) async throws -> (ca: String, certificate: String, key: String) {
        let environment = ChildProcess.inheritedEnvironment()
        func openssl(_ arguments: [String]) async throws {
            let result = try await ChildProcess.run(executable: "/usr/bin/openssl", arguments: arguments,
                                                    environment: environment, workingDirectory: directory)
            guard result.exitCode == 0 else { throw TestSupportError("openssl \(arguments.first ?? ""): \(result.stderr)") }
        }
        try await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
                           "-days", "2", "-subj", "/CN=stevedore test ca"])
        try await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr",
                           "-subj", "/CN=127.0.0.1"])
        try Data("subjectAltName=IP:127.0.0.1\n".utf8).write(to: URL(fileURLWithPath: directory + "/san.cnf"))
        try await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                           "-out", "server.pem", "-days", "2", "-extfile", "san.cnf"])
        return (directory + "/ca.pem", directory + "/server.pem", directory + "/server.key")
    }

    @Test func pushesOverHTTPSWithAPrivateCAAndRefusesAnUntrustedCertificate() async throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let files = try await makeCertificates(in: workspace.directory.path)
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": Self.password]),
                                                       tls: .init(certificate: files.certificate, key: files.key))
        let file = try workspace.servicesFile(namespace: "secure", services: ["a", "b"], tags: ["latest"])
        let credentials = ["STEVEDORE_USERNAME": "ci", "STEVEDORE_PASSWORD": Self.password]

        let trusted = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                              "--ca-cert", files.ca], environment: credentials)
        #expect(trusted.exitCode == 0, "stderr: \(trusted.stderr)")
        let image = try await Skopeo.inspect(reference: "\(registry.address)/secure/b:latest", credentials: ("ci", Self.password))
        #expect(image.digest == placeholderDigest)

        // Contradictory or unusable TLS options are usage errors: nothing is sent.
        let conflicting = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                                  "--insecure-skip-tls-verify", "--ca-cert", files.ca], environment: credentials)
        #expect(conflicting.exitCode == 2)
        let badCA = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                            "--ca-cert", files.certificate + ".missing"], environment: credentials)
        #expect(badCA.exitCode == 2)
        #expect(badCA.stderr.contains("is not a readable PEM certificate file"))

        let skip = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                           "--insecure-skip-tls-verify"], environment: credentials)
        #expect(skip.exitCode == 0, "stderr: \(skip.stderr)")
        let options = try await sqlite(workspace.db, "SELECT json_extract(options, '$.tls') FROM runs ORDER BY id")
        #expect(options == ["ca_cert", "insecure_skip_verify"])

        // login checks the credentials over HTTPS with the private CA, then provision uses what it stored.
        let docker = workspace.directory.appendingPathComponent("docker").path
        let login = try await runStevedore(["login", registry.address, "--username", "ci", "--password-stdin", "--ca-cert", files.ca],
                                           environment: ["DOCKER_CONFIG": docker], stdin: Array(Self.password.utf8))
        #expect(login.exitCode == 0, "stderr: \(login.stderr)")
        let untrusted = try await runStevedore(["login", registry.address, "--username", "ci", "--password-stdin"],
                                               environment: ["DOCKER_CONFIG": docker + "-other"], stdin: Array(Self.password.utf8))
        #expect(untrusted.exitCode == 4, "plain http to an https registry: \(untrusted.stderr)")
        let stored = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                             "--ca-cert", files.ca], environment: ["DOCKER_CONFIG": docker])
        #expect(stored.exitCode == 0, "stderr: \(stored.stderr)")
        await registry.stop()
    }

    @Test func aCertificateFromAnUnknownCAIsANetworkErrorWithExit4() async throws {
        let workspace = try Workspace()
        defer { workspace.remove() }
        let files = try await makeCertificates(in: workspace.directory.path)
        let other = workspace.directory.appendingPathComponent("other").path
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        let otherCA = try await makeCertificates(in: other).ca
        let registry = try await RegistryFixture.start(.anonymous, tls: .init(certificate: files.certificate, key: files.key))
        let file = try workspace.servicesFile(namespace: "secure", services: ["a"], tags: ["latest"])
        let run = try await runStevedore(["provision", file, "--registry", registry.address, "--db", workspace.db,
                                          "--ca-cert", otherCA, "--timeout", "10"], environment: [:])
        #expect(run.exitCode == 4)
        #expect(run.stderr.contains("cannot reach registry \(registry.address)"))
        await registry.stop()
    }
}
