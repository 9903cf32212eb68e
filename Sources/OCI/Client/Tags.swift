import Foundation
import HTTPTransport

/// Tag listing with `Link` pagination.
///
/// See https://github.com/opencontainers/distribution-spec/blob/main/spec.md#listing-tags .
extension RegistryClient {
    /// Tags asked for per page.
    static let tagPageSize = 1000
    /// A registry that keeps paginating past this many pages is answering in circles.
    static let maxTagPages = 10_000

    private struct TagPage: Decodable {
        let tags: [String]?
    }

    /// GET /v2/<name>/tags/list (follows Link pagination); nil when the repository does not exist.
    public func tags(repository: RepositoryName) async throws(RegistryError) -> [String]? {
        let operation = "GET tags \(repository.value)"
        var next: String? = url(repository, "tags/list?n=\(Self.tagPageSize)")
        var seen: Set<String> = []
        var tags: [String] = []
        while let page = next, seen.count < Self.maxTagPages {
            guard seen.insert(page).inserted else { break }
            let response = try await send(Call(method: .get, url: page, operation: operation,
                                               scopes: .repository(repository, push: false)))
            switch response.status {
            case 200..<300: break
            case 404: return nil
            default: throw failure(operation, response)
            }
            guard let decoded = try? JSON.decoder.decode(TagPage.self, from: Data(response.body)) else {
                throw invalid(operation, "the tag list is not json")
            }
            tags += decoded.tags ?? []
            next = response.values(.link).lazy.compactMap(Self.nextLink).first
                .flatMap { URLParts.resolve($0, against: page) }
        }
        return tags
    }

    /// The target of the `rel="next"` entry of a `Link` header (RFC 8288), e.g. `</v2/a/tags/list?last=x>; rel="next"`.
    static func nextLink(_ header: String) -> String? {
        var rest = Substring(header)
        while let open = rest.firstIndex(of: "<") {
            guard let close = rest[open...].firstIndex(of: ">") else { return nil }
            let target = rest[rest.index(after: open)..<close]
            let afterTarget = rest[rest.index(after: close)...]
            let end = afterTarget.firstIndex(of: "<") ?? afterTarget.endIndex
            let parameters = afterTarget[..<end]
            for parameter in parameters.split(whereSeparator: { $0 == ";" || $0 == "," }) {
                let pair = parameter.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, pair[0].trimmingASCIISpaces().lowercased() == "rel" else { continue }
                let value = pair[1].trimmingASCIISpaces().trimmingCharacters(in: CharacterSet(charactersIn: "\""))
                if value.split(separator: " ").contains(where: { $0.lowercased() == "next" }) { return String(target) }
            }
            rest = afterTarget[end...]
        }
        return nil
    }
}
