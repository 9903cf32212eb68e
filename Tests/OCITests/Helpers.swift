import Credentials
import HTTPTransport
import OCI
import Testing
import TestSupport
import Timekeeping

func repo(_ name: String) -> RepositoryName { try! RepositoryName(validating: name) }

func client(_ fake: FakeRegistry, registry: String = "registry.test", credentials: Credentials? = nil,
            plainHTTP: Bool = false, allowInsecureCredentials: Bool = false,
            time: any TimeSource = ManualTime()) -> RegistryClient {
    RegistryClient(registry: try! RegistryHost(parsing: registry), transport: fake, credentials: credentials,
                   plainHTTP: plainHTTP, time: time, allowInsecureCredentials: allowInsecureCredentials)
}

/// Runs `body` and returns the `RegistryError` it threw (nil if it did not throw).
func registryError(_ body: () async throws -> Void) async -> RegistryError? {
    do {
        try await body()
        return nil
    } catch let error as RegistryError {
        return error
    } catch {
        Issue.record("expected a RegistryError, got \(error)")
        return nil
    }
}

let layer = Array("layer bytes".utf8)
let layerDigest = Digest.sha256(layer)
let manifestBytes = Array(#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#.utf8)
