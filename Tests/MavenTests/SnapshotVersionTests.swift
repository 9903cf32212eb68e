import Foundation
import Maven
import Testing

@Suite struct SnapshotVersionTests {
    /// 2026-12-02 05:01:46.750 UTC.
    static let date = Date(timeIntervalSince1970: 1_796_187_706.75)

    @Test func timestampsAreUTC() {
        #expect(SnapshotVersion.timestamp(for: Self.date) == "20261202.050146")
        #expect(SnapshotVersion.lastUpdated(for: Self.date) == "20261202050146")
        #expect(SnapshotVersion.timestamp(for: Date(timeIntervalSince1970: 0)) == "19700101.000000")
    }

    @Test func nextBuildNumberFollowsTheRemoteMetadata() throws {
        let first = try #require(SnapshotVersion.next(baseVersion: "1.2.0-SNAPSHOT", remote: nil, at: Self.date))
        #expect(first.buildNumber == 1)
        #expect(first.value == "1.2.0-20261202.050146-1")

        let remote = SnapshotMetadata(groupId: "com.example", artifactId: "greeter", version: "1.2.0-SNAPSHOT",
                                      snapshot: .init(timestamp: "20261201.101010", buildNumber: 41))
        let next = try #require(SnapshotVersion.next(baseVersion: "1.2.0-SNAPSHOT", remote: remote, at: Self.date))
        #expect(next.buildNumber == 42)
        #expect(next.fileName(artifactId: "greeter", classifier: nil, fileExtension: "jar")
                == "greeter-1.2.0-20261202.050146-42.jar")
        #expect(next.fileName(artifactId: "greeter", classifier: "sources", fileExtension: "jar")
                == "greeter-1.2.0-20261202.050146-42-sources.jar")

        let withoutSnapshot = SnapshotMetadata(groupId: "com.example", artifactId: "greeter", version: "1.2.0-SNAPSHOT")
        #expect(SnapshotVersion.next(baseVersion: "1.2.0-SNAPSHOT", remote: withoutSnapshot, at: Self.date)?.buildNumber == 1)
        #expect(SnapshotVersion.next(baseVersion: "1.2.0", remote: nil, at: Self.date) == nil)
    }

    @Test func parsesTimestampedVersions() {
        let parsed = SnapshotVersion.parse("1.1.0-rc-1-20261202.050146-12")
        #expect(parsed?.baseVersion == "1.1.0-rc-1-SNAPSHOT")
        #expect(parsed?.timestamp == "20261202.050146")
        #expect(parsed?.buildNumber == 12)
        #expect(SnapshotVersion.parse("1.1.0-SNAPSHOT") == nil)
        #expect(SnapshotVersion.parse("1.1.0-20261202.0501-1") == nil)
        #expect(SnapshotVersion.parse("20261202.050146-1") == nil)
        #expect(SnapshotVersion.isSnapshot("1.1.0-20261202.050146-1"))
        #expect(!SnapshotVersion.isSnapshot("1.1.0"))
    }
}
