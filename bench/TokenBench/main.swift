import Foundation
import TestSupport
import Timekeeping

// make bench: Stevedore and skopeo against the real docker-registry in token mode (how ghcr.io works), with
// the token-server fixture counting token requests. One fresh registry and token server per tool.
//
//   BenchToken STEVEDORE OCI_LAYOUT WORKDIR N CONCURRENCY
//   → one line per tool: tool wall_s tag_pushes_per_s token_requests tokens_per_repository requests_per_push

let arguments = CommandLine.arguments
guard arguments.count == 6, let n = Int(arguments[4]), let concurrency = Int(arguments[5]) else {
    FileHandle.standardError.write(Data("usage: BenchToken STEVEDORE OCI_LAYOUT WORKDIR N CONCURRENCY\n".utf8))
    exit(2)
}
let (stevedore, layout, work) = (arguments[1], arguments[2], arguments[3])
let password = "bench-pat-0123456789abcdef"

func measure(_ tool: String) async throws {
    let tokens = try await TokenServer.start(users: ["bench": .readWrite(password)])
    let registry = try await RegistryFixture.start(.token(realm: tokens.realm, service: TokenServer.service,
                                                          issuer: TokenServer.issuer, rootCertBundle: tokens.certificatePath))
    let file = "\(work)/token-services.yaml"
    var text = "namespace: bench\ntags: [latest, \"0.1.0\"]\nservices:\n"
    for index in 0..<n { text += "  - svc-\(index)\n" }
    try Data(text.utf8).write(to: URL(fileURLWithPath: file))
    let start = ContinuousClock.now
    let result: ChildResult
    switch tool {
    case "stevedore":
        result = try await ChildProcess.run(
            executable: stevedore,
            arguments: ["provision", file, "--registry", registry.address, "--db", "\(work)/token-\(UUID().uuidString).db",
                        "--concurrency", String(concurrency), "--quiet"],
            environment: ["USER_NAME": "bench", "CR_PAT": password], timeout: .seconds(1200))
    default:
        let copy = "skopeo copy -q --dest-tls-verify=false --dest-creds bench:\(password) oci:\(layout):latest"
        result = try await ChildProcess.run(
            executable: "/bin/bash",
            arguments: ["-c", "seq 0 \(n - 1) | xargs -P \(concurrency) -I{} sh -c '\(copy) docker://\(registry.address)/bench/svc-{}:latest && \(copy) docker://\(registry.address)/bench/svc-{}:0.1.0'"],
            environment: [:], timeout: .seconds(1200))
    }
    let elapsed = ContinuousClock.now - start
    let seconds = elapsed.seconds
    guard result.exitCode == 0 else {
        FileHandle.standardError.write(Data("BenchToken: \(tool) failed (\(result.exitCode)): \(result.stderr.suffix(500))\n".utf8))
        exit(1)
    }
    let requests = registry.accessLog().filter { $0.path != "/v2/" }.count
    print(String(format: "%@ %.2f %.1f %d %.2f %.2f", tool, seconds, Double(2 * n) / seconds, tokens.requestCount,
                 Double(tokens.requestCount) / Double(n), Double(requests) / Double(2 * n)))
    await registry.stop()
    await tokens.stop()
}

for tool in ["stevedore", "skopeo"] {
    try await measure(tool)
}
