import Foundation

/// One deployed build of a SNAPSHOT version: `1.2.0-SNAPSHOT` published as `1.2.0-20261202.050146-2`.
///
/// A deploy replaces `SNAPSHOT` in every file name with `yyyyMMdd.HHmmss-N` (UTC), N being the remote
/// version-level metadata's build number plus one. See
/// https://maven.apache.org/repositories/metadata.html (version-level metadata).
public struct SnapshotVersion: Sendable, Hashable, CustomStringConvertible {
    /// `1.2.0-SNAPSHOT`.
    public let baseVersion: String
    /// `20261202.050146`.
    public let timestamp: String
    /// 1 for the first build of a SNAPSHOT version.
    public let buildNumber: Int

    /// Makes a build from its parts; nil when `baseVersion` does not end in `-SNAPSHOT`, the timestamp is not
    /// `yyyyMMdd.HHmmss` or the build number is below 1.
    public init?(baseVersion: String, timestamp: String, buildNumber: Int) {
        guard baseVersion.hasSuffix(Self.suffix), baseVersion.count > Self.suffix.count,
              Self.isTimestamp(timestamp), buildNumber >= 1 else { return nil }
        self.baseVersion = baseVersion
        self.timestamp = timestamp
        self.buildNumber = buildNumber
    }

    /// `1.2.0-20261202.050146-2`: what replaces the base version in file names.
    public var value: String {
        "\(baseVersion.dropLast(Self.suffix.count))-\(timestamp)-\(buildNumber)"
    }

    public var description: String { value }

    /// `<artifactId>-<value>[-classifier].<extension>`, e.g. `greeter-1.2.0-20261202.050146-2-sources.jar`.
    public func fileName(artifactId: String, classifier: String?, fileExtension: String) -> String {
        let suffix = classifier.map { "-\($0)" } ?? ""
        return "\(artifactId)-\(value)\(suffix).\(fileExtension)"
    }

    /// The next build: the remote version-level metadata's `<snapshot><buildNumber>` plus one (1 when there is
    /// no remote metadata or it names no build), stamped with `date` in UTC.
    public static func next(baseVersion: String, remote: SnapshotMetadata?, at date: Date) -> SnapshotVersion? {
        let previous = remote?.snapshot?.buildNumber ?? 0
        return SnapshotVersion(baseVersion: baseVersion, timestamp: timestamp(for: date), buildNumber: previous + 1)
    }

    /// Reads a timestamped version: `1.2.0-20261202.050146-2` -> base `1.2.0-SNAPSHOT`, build 2; nil otherwise.
    public static func parse(_ version: String) -> SnapshotVersion? {
        let parts = version.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 3, let build = Int(parts[parts.count - 1]), String(build) == parts[parts.count - 1] else {
            return nil
        }
        let timestamp = String(parts[parts.count - 2])
        let prefix = parts[..<(parts.count - 2)].joined(separator: "-")
        guard !prefix.isEmpty else { return nil }
        return SnapshotVersion(baseVersion: prefix + suffix, timestamp: timestamp, buildNumber: build)
    }

    // MARK: Version strings

    static let suffix = "-SNAPSHOT"

    /// Whether `version` is a SNAPSHOT: it ends in `SNAPSHOT` or is a timestamped build.
    public static func isSnapshot(_ version: String) -> Bool {
        version.hasSuffix("SNAPSHOT") || parse(version) != nil
    }

    /// `1.2.0-SNAPSHOT` for `1.2.0-20261202.050146-2`; any other version unchanged.
    public static func baseVersion(of version: String) -> String {
        parse(version)?.baseVersion ?? version
    }

    /// `yyyyMMdd.HHmmss` in UTC, the SNAPSHOT timestamp.
    public static func timestamp(for date: Date) -> String {
        let c = utcComponents(date)
        return pad(c.year, 4) + pad(c.month, 2) + pad(c.day, 2) + "." + pad(c.hour, 2) + pad(c.minute, 2) + pad(c.second, 2)
    }

    /// `yyyyMMddHHmmss` in UTC, the `lastUpdated` and `updated` stamp of maven-metadata.xml.
    public static func lastUpdated(for date: Date) -> String {
        timestamp(for: date).replacingOccurrences(of: ".", with: "")
    }

    /// Whether `text` looks like `yyyyMMdd.HHmmss`.
    static func isTimestamp(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count == 15, bytes[8] == UInt8(ascii: ".") else { return false }
        return bytes.enumerated().allSatisfy { $0.offset == 8 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0.element) }
    }

    private static func utcComponents(_ date: Date) -> (year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return (c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }
}
