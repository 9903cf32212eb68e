import HTTPTypes

/// One HTTP request as a protocol client builds it: method, absolute URL, header fields and an optional body.
public struct TransportRequest: Sendable {
    public var method: HTTPRequest.Method
    /// Absolute `http(s)://` URL.
    public var url: String
    public var headerFields: HTTPFields
    public var body: HTTPBody?
    /// Overrides the transport's per-request deadline (long uploads); nil: the transport's default.
    public var timeout: Duration?

    public init(method: HTTPRequest.Method, url: String, headerFields: HTTPFields = [:], body: HTTPBody? = nil,
                timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headerFields = headerFields
        self.body = body
        self.timeout = timeout
    }
}

extension HTTPField.Name {
    /// `Docker-Content-Digest`: the digest a registry computed for a manifest or blob.
    public static let dockerContentDigest = HTTPField.Name("Docker-Content-Digest")!
    /// `Link` (RFC 8288), used for pagination.
    public static let link = HTTPField.Name("Link")!
    /// `OCI-Subject`: the subject a pushed manifest refers to (OCI 1.1 referrers).
    public static let ociSubject = HTTPField.Name("OCI-Subject")!
    /// `OCI-Filters-Applied` on referrers answers.
    public static let ociFiltersApplied = HTTPField.Name("OCI-Filters-Applied")!
}

extension HTTPFields {
    /// Every value of `name`, in order.
    public func values(_ name: HTTPField.Name) -> [String] {
        self[fields: name].map(\.value)
    }
}
