import Foundation

/// What an attempt did with one blob.
public struct BlobActionRecord: Sendable, Equatable {
    public var digest: String
    public var size: Int64
    public var mediaType: String
    /// `uploaded`, `mounted` or `present`.
    public var action: String
    public var bytesSent: Int64
    public var durationMs: Int
    public var at: Date

    public init(digest: String, size: Int64, mediaType: String, action: String, bytesSent: Int64, durationMs: Int, at: Date) {
        self.digest = digest
        self.size = size
        self.mediaType = mediaType
        self.action = action
        self.bytesSent = bytesSent
        self.durationMs = durationMs
        self.at = at
    }
}

/// A manifest a job put into its repository.
public struct ManifestRecord: Sendable, Equatable {
    public var digest: String
    public var mediaType: String
    public var platform: String?
    public var tags: [String]
    public var size: Int
    public var at: Date

    public init(digest: String, mediaType: String, platform: String?, tags: [String], size: Int, at: Date) {
        self.digest = digest
        self.mediaType = mediaType
        self.platform = platform
        self.tags = tags
        self.size = size
        self.at = at
    }
}
