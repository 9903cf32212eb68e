import Foundation

/// Decodes `{"errors":[{"code":"...","message":"...","detail":...}]}` error bodies.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes . Proxies and
/// misconfigured servers answer with HTML or nothing at all; those give no details rather than an error.
public enum ErrorBody {
    private struct Envelope: Decodable {
        struct Entry: Decodable {
            let code: String?
            let message: String?
        }
        let errors: [Entry]?
    }

    /// The error entries of `body`; empty when the body is empty, not JSON, or has no `errors`.
    public static func details(from body: [UInt8]) -> [RegistryErrorDetail] {
        guard let first = body.first(where: { $0 != 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09 }),
              first == UInt8(ascii: "{") else { return [] }
        guard let envelope = try? JSON.decoder.decode(Envelope.self, from: Data(body)) else { return [] }
        return (envelope.errors ?? []).compactMap { entry in
            guard let code = entry.code, !code.isEmpty else { return nil }
            return RegistryErrorDetail(code: code.uppercased(), message: entry.message)
        }
    }
}

/// The one JSON decoder the module shares; decoding does not mutate it, so concurrent use is safe.
enum JSON {
    static let decoder = JSONDecoder()
}
