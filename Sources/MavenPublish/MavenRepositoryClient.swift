import Credentials
import Foundation
import HTTPTransport
import HTTPTypes

/// A Maven repository over HTTP: GET, HEAD and PUT of paths below its URL, the way `maven-resolver`'s HTTP
/// transport does it (https://maven.apache.org/resolver/ , and GitHub's
/// https://docs.github.com/en/packages/working-with-a-github-packages-registry/working-with-the-apache-maven-registry).
///
/// Basic credentials are sent preemptively with every request, but only over HTTPS or to a loopback host
/// (``HostPolicy``); a redirect is never followed with them (the transport drops `Authorization` across origins,
/// and an answer of 3xx is an error here).
public struct MavenRepositoryClient: Sendable {
    /// The repository URL without a trailing slash (`https://maven.pkg.github.com/OWNER/REPO`).
    public let url: String
    let parts: URLParts
    let transport: any HTTPTransport
    let credentials: Credentials?

    /// Fails when `url` is not an absolute http(s) URL, or when credentials would cross plain HTTP to another host.
    public init(url: String, transport: any HTTPTransport, credentials: Credentials?) throws(MavenPublishError) {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        guard let parts = URLParts(trimmed + "/") else {
            throw .input("repository url '\(url)' is not an http(s) url, e.g. https://maven.pkg.github.com/OWNER/REPO")
        }
        if credentials != nil, !HostPolicy.mayCarryCredentials(to: parts) {
            throw .input("refusing to send credentials over plain http to \(parts.authority); use https")
        }
        self.url = trimmed
        self.parts = parts
        self.transport = transport
        self.credentials = credentials
    }

    /// `<url>/<path>`.
    public func address(_ path: String) -> String { url + "/" + path }

    /// GET `path`: the body on 200, nil on 404; anything else is an error.
    public func get(_ path: String, limit: Int = 16 << 20) async throws(MavenPublishError) -> [UInt8]? {
        let response = try await send(.get, path, operation: "GET \(path)")
        switch response.status {
        case 200: return response.body
        case 404: return nil
        default: throw failure("GET \(path)", response)
        }
    }

    /// PUT `body` at `path` with its length; 200, 201 and 204 are success.
    public func put(_ path: String, body: HTTPBody, contentType: String = "application/octet-stream") async throws(MavenPublishError) {
        var headers: HTTPFields = [.contentType: contentType]
        if let length = body.knownLength { headers[.contentLength] = String(length) }
        let response = try await send(.put, path, headers: headers, body: body,
                                      timeout: HTTPBody.uploadTimeout(body.knownLength ?? 0), operation: "PUT \(path)")
        guard [200, 201, 204].contains(response.status) else { throw failure("PUT \(path)", response) }
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, headers: HTTPFields = [:], body: HTTPBody? = nil,
                      timeout: Duration? = nil, operation: String) async throws(MavenPublishError) -> CollectedResponse {
        var fields = headers
        if let credentials { fields[.authorization] = credentials.basicAuthorization }
        fields[.userAgent] = "stevedore"
        let request = TransportRequest(method: method, url: address(path), headerFields: fields, body: body, timeout: timeout)
        do {
            return try await transport.send(request).collected()
        } catch let error as TransportError {
            throw .transport(operation: operation, error)
        } catch is CancellationError {
            throw .transport(operation: operation, TransportError(kind: .other, message: "cancelled"))
        } catch {
            throw .transport(operation: operation, TransportError(kind: .other, message: "\(error)"))
        }
    }

    private func failure(_ operation: String, _ response: CollectedResponse) -> MavenPublishError {
        let text = String(decoding: response.body.prefix(300), as: UTF8.self)
        let summary = text.contains("<html") || text.isEmpty ? "" : text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        return .http(operation: operation, status: response.status, message: summary,
                     retryAfter: response[.retryAfter], host: parts.authority)
    }
}
