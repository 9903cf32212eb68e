import Foundation
import HTTPTransport
import ImagePush
import OCI

/// The run's options as the audit log keeps them (`runs.options`, JSON): how it was run, and for a release how its
/// tags move, which `retry` and `resume` read back.
enum RecordedOptions {
    static func json(_ options: RunOptions, access: RegistryAccess, release: ReleaseSettings?,
                     platforms: [String] = [], referrers: Bool = true) -> String {
        var object: [String: Any] = [
            "concurrency": options.concurrency, "max_attempts": options.maxAttempts, "force": options.force,
            "plain_http": access.plainHTTP, "tls": access.plainHTTP ? "none" : access.trust.name,
            "authenticated": access.credentials != nil, "upload": uploadName(options.uploadMode),
        ]
        if !platforms.isEmpty { object["platforms"] = platforms }
        if options.verifyDepth != .tags { object["verify"] = options.verifyDepth.rawValue }
        if !referrers { object["referrers"] = false }
        if let release, let data = try? JSONEncoder().encode(release),
           let encoded = try? JSONSerialization.jsonObject(with: data) {
            object["release"] = encoded
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The release settings a run recorded, if it was a release.
    static func release(_ options: String?) -> ReleaseSettings? {
        guard let options, let object = try? JSONSerialization.jsonObject(with: Data(options.utf8)) as? [String: Any],
              let release = object["release"],
              let data = try? JSONSerialization.data(withJSONObject: release) else { return nil }
        return try? JSONDecoder().decode(ReleaseSettings.self, from: data)
    }

    /// The platform filter a run applied to its images.
    static func platforms(_ options: String?) -> [String] {
        guard let options, let object = try? JSONSerialization.jsonObject(with: Data(options.utf8)) as? [String: Any]
        else { return [] }
        return object["platforms"] as? [String] ?? []
    }

    /// Whether the run copied referrers with its registry sources (`--no-referrers` recorded as false).
    static func referrers(_ options: String?) -> Bool {
        guard let options, let object = try? JSONSerialization.jsonObject(with: Data(options.utf8)) as? [String: Any]
        else { return true }
        return object["referrers"] as? Bool ?? true
    }

    /// The options a `stevedore worker` takes from the run it joins: what the run does (force, upload mode, verify
    /// depth, attempts); how fast this machine goes (concurrency, rate, timeout) stays the worker's own.
    static func joining(_ options: String?, into local: RunOptions) -> RunOptions {
        var joined = local
        guard let options, let object = try? JSONSerialization.jsonObject(with: Data(options.utf8)) as? [String: Any]
        else { return joined }
        joined.force = object["force"] as? Bool ?? false
        if let attempts = object["max_attempts"] as? Int { joined.maxAttempts = attempts }
        if let depth = (object["verify"] as? String).flatMap(ImageVerifier.Depth.init(rawValue:)) { joined.verifyDepth = depth }
        switch object["upload"] as? String {
        case "monolithic": joined.uploadMode = .monolithic
        case let name? where name.hasPrefix("chunked:"): joined.uploadMode = .chunked(Int64(name.dropFirst(8)) ?? 4 << 20)
        default: joined.uploadMode = .streamed
        }
        return joined
    }

    static func uploadName(_ mode: UploadMode) -> String {
        switch mode {
        case .monolithic: "monolithic"
        case .streamed: "stream"
        case .chunked(let size): "chunked:\(size)"
        }
    }
}
