import Foundation
import Testing
import TestSupport

/// The fixtures themselves: child processes, real registries, skopeo.
@Suite struct FixtureSmokeTests {
    @Test func childProcessReceivesSigtermAndSigint() async throws {
        let sleeper = try ChildProcess.spawn(executable: "/bin/sleep", arguments: ["30"], environment: [:])
        #expect(sleeper.isRunning)
        sleeper.signal(SIGTERM)
        let terminated = try await sleeper.wait(timeout: .seconds(5))
        #expect(terminated.exitCode == 128 + SIGTERM)

        let interrupted = try ChildProcess.spawn(executable: "sleep", arguments: ["30"],
                                                 environment: ChildProcess.inheritedEnvironment())
        interrupted.signal(SIGINT)
        #expect(try await interrupted.wait(timeout: .seconds(5)).exitCode == 128 + SIGINT)
    }

    @Test func childProcessPassesStdinEnvironmentDirectoryAndExitCode() async throws {
        let directory = try TempDirectory.create(prefix: "smoke")
        defer { directory.remove() }
        let result = try await ChildProcess.run(
            executable: "/bin/sh", arguments: ["-c", "cat; echo \"[$GREETING]\"; pwd; echo oops >&2; exit 3"],
            environment: ["GREETING": "hello world"], stdin: Array("from stdin\n".utf8), workingDirectory: directory.path)
        #expect(result.exitCode == 3)
        let realDirectory = URL(fileURLWithPath: directory.path).resolvingSymlinksInPath().path
        #expect(result.stdout == "from stdin\n[hello world]\n\(realDirectory)\n")
        #expect(result.stderr == "oops\n")

        let output = directory.file("out.txt")
        let toFile = try await ChildProcess.run(executable: "/bin/echo", arguments: ["to a file"], environment: [:],
                                                stdoutPath: output)
        #expect(toFile.stdout == "to a file\n")
        #expect(try String(contentsOfFile: output, encoding: .utf8) == "to a file\n")
    }

    @Test func childProcessTimeoutKillsAndReportsPartialOutput() async throws {
        let child = try ChildProcess.spawn(executable: "/bin/sh", arguments: ["-c", "echo started; exec sleep 30"],
                                           environment: [:])
        try await Task.sleep(for: .milliseconds(200))
        #expect(child.readStdoutSoFar() == "started\n")
        await #expect(throws: ChildProcessError.self) {
            _ = try await child.wait(timeout: .milliseconds(300))
        }
        #expect(!child.isRunning)
        #expect(child.result()?.exitCode == 128 + SIGKILL)
        #expect(throws: ChildProcessError.self) {
            _ = try ChildProcess.spawn(executable: "no-such-program-here", arguments: [], environment: [:])
        }
    }

    @Test func anonymousRegistryAnswersAndLogsRequests() async throws {
        let registry = try await RegistryFixture.start(.anonymous)
        #expect(registry.address.hasPrefix("127.0.0.1:"))
        #expect(FileManager.default.fileExists(atPath: registry.storageDirectory))
        #expect(try await registry.send("GET", "/v2/").status == 200)
        let missing = try await registry.send("GET", "/v2/smoke/app/manifests/latest?probe=1")
        #expect(missing.status == 404)
        #expect(missing.bodyText.contains("MANIFEST_UNKNOWN"))

        let log = registry.accessLog()
        #expect(log.contains(AccessLogEntry(method: "GET", path: "/v2/", status: 200, userAgent: FixtureHTTP.userAgent)))
        let probe = log.first { $0.path.contains("/manifests/") }
        #expect(probe?.path == "/v2/smoke/app/manifests/latest?probe=1")
        #expect(probe?.pathWithoutQuery == "/v2/smoke/app/manifests/latest")
        #expect(probe?.query == "probe=1")
        #expect(probe?.status == 404)

        let directory = registry.directory.path
        await registry.stop()
        #expect(!registry.isRunning)
        #expect(!FileManager.default.fileExists(atPath: directory))
        await registry.stop()  // a second stop is harmless
    }

    @Test func htpasswdRegistryChallengesAndAcceptsOnlyTheRightPassword() async throws {
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": "right-password", "other": "x"]))
        let anonymous = try await registry.send("GET", "/v2/")
        #expect(anonymous.status == 401)
        #expect(anonymous.header("WWW-Authenticate")?.hasPrefix("Basic realm=") == true)
        func basic(_ user: String, _ password: String) -> [String: String] {
            ["Authorization": "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()]
        }
        #expect(try await registry.send("GET", "/v2/", headers: basic("ci", "right-password")).status == 200)
        #expect(try await registry.send("GET", "/v2/", headers: basic("ci", "wrong")).status == 401)
        let statuses = registry.accessLog().filter { $0.path == "/v2/" }.map(\.status)
        #expect(statuses == [401, 401, 200, 401])  // readiness ping, then the three above
        await registry.stop()
    }

    @Test func severalRegistriesRunSideBySide() async throws {
        let registries = try await withThrowingTaskGroup(of: RegistryFixture.self) { group in
            for _ in 0..<4 { group.addTask { try await RegistryFixture.start(.anonymous) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(registries.map(\.port)).count == 4)
        for registry in registries {
            #expect(try await registry.send("GET", "/v2/").status == 200)
            await registry.stop()
        }
    }

    @Test func skopeoPushesInspectsAndPullsAnImage() async throws {
        let registry = try await RegistryFixture.start(.htpasswd(users: ["ci": "pw"]))
        let work = try TempDirectory.create(prefix: "smoke-skopeo")
        defer { work.remove() }
        let layout = try await makeOCILayout(in: work)
        try await Skopeo.copy(from: "oci:\(layout.path):v1", to: "docker://\(registry.address)/smoke/tiny:v1",
                              destinationCredentials: ("ci", "pw"))
        let image = try await Skopeo.inspect(reference: "\(registry.address)/smoke/tiny:v1", credentials: ("ci", "pw"))
        #expect(image.digest == layout.manifestDigest)
        #expect(image.layers == [layout.layerDigest])
        #expect(image.labels == ["stevedore.smoke": "yes"])
        #expect(image.manifestMediaType == "application/vnd.oci.image.manifest.v1+json")
        #expect(String(decoding: image.rawManifest, as: UTF8.self) == layout.manifest)

        let pulled = work.file("pulled")
        try await Skopeo.copy(from: "docker://\(registry.address)/smoke/tiny:v1", to: "dir:\(pulled)",
                              sourceCredentials: ("ci", "pw"))
        #expect(FileManager.default.fileExists(atPath: "\(pulled)/manifest.json"))

        await #expect(throws: TestSupportError.self) {
            _ = try await Skopeo.inspect(reference: "\(registry.address)/smoke/tiny:v1", credentials: ("ci", "wrong"))
        }
        #expect(registry.accessLog().contains { $0.method == "PUT" && $0.path == "/v2/smoke/tiny/manifests/v1" && $0.status == 201 })
        await registry.stop()
    }

    @Test func stevedoreBinaryIsFoundAndRuns() async throws {
        let help = try await runStevedore(["--help"], environment: [:])
        #expect(help.exitCode == 0, "\(help)")
        #expect(help.stdout.contains("provision"))
    }
}

/// A one-layer image in an OCI layout directory, built with tar and sha256sum.
private struct TinyLayout {
    let path: String
    let manifest: String
    let manifestDigest: String
    let layerDigest: String
}

private func makeOCILayout(in work: TempDirectory) async throws -> TinyLayout {
    let layout = try work.makeSubdirectory("layout")
    let blobs = try work.makeSubdirectory("layout/blobs/sha256")
    let content = try work.makeSubdirectory("content")
    try work.write("content/hello.txt", "hello from the fixture smoke test\n")
    let tar = try await ChildProcess.run(executable: "/bin/tar", arguments: ["-czf", work.file("layer.tar.gz"), "-C", content, "."],
                                         environment: [:])
    #expect(tar.exitCode == 0, "\(tar)")

    func store(_ file: String) async throws -> (digest: String, size: Int) {
        let sum = try await ChildProcess.run(executable: "/usr/bin/sha256sum", arguments: [file], environment: [:])
        let hex = String(sum.stdout.prefix(64))
        try FileManager.default.copyItem(atPath: file, toPath: "\(blobs)/\(hex)")
        let size = try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int ?? 0
        return ("sha256:\(hex)", size)
    }
    let layer = try await store(work.file("layer.tar.gz"))
    let diff = try await ChildProcess.run(executable: "/bin/sh", arguments: ["-c", "gzip -dc '\(work.file("layer.tar.gz"))' | sha256sum"],
                                          environment: ChildProcess.inheritedEnvironment())
    let config = #"{"architecture":"amd64","os":"linux","config":{"Labels":{"stevedore.smoke":"yes"}},"rootfs":{"type":"layers","diff_ids":["sha256:\#(diff.stdout.prefix(64))"]}}"#
    let configBlob = try await store(try work.write("config.json", config))
    let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"\#(configBlob.digest)","size":\#(configBlob.size)},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"\#(layer.digest)","size":\#(layer.size)}]}"#
    let manifestBlob = try await store(try work.write("manifest.json", manifest))
    try work.write("layout/oci-layout", #"{"imageLayoutVersion":"1.0.0"}"#)
    try work.write("layout/index.json", #"{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"\#(manifestBlob.digest)","size":\#(manifestBlob.size),"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}"#)
    return TinyLayout(path: layout, manifest: manifest, manifestDigest: manifestBlob.digest, layerDigest: layer.digest)
}
