/// A set of token scopes such as `repository:ns/app:pull,push`, normalised per resource.
///
/// Scope syntax: `resourcetype:resourcename:action[,action...]`, from the token authentication flow that
/// https://github.com/opencontainers/distribution-spec/blob/main/spec.md defers to (distribution's token spec).
struct ScopeSet: Hashable, Sendable, CustomStringConvertible {
    /// `type:name` -> actions.
    private(set) var grants: [String: Set<String>] = [:]

    init() {}

    /// Parses scope strings; malformed ones (without two colons) are kept whole as a resource with no action.
    init(_ scopes: some Sequence<String>) {
        for scope in scopes { insert(scope) }
    }

    /// The scopes a request on `repository` needs: `pull`, plus `push` when it writes.
    static func repository(_ repository: RepositoryName, push: Bool) -> ScopeSet {
        var set = ScopeSet()
        set.add(resource: "repository:\(repository.value)", actions: push ? ["pull", "push"] : ["pull"])
        return set
    }

    var isEmpty: Bool { grants.isEmpty }

    /// The resources this set names, e.g. `repository:ns/app`.
    var resources: Dictionary<String, Set<String>>.Keys { grants.keys }

    mutating func insert(_ scope: String) {
        guard let first = scope.firstIndex(of: ":"), let last = scope.lastIndex(of: ":"), first != last else {
            if !scope.isEmpty { add(resource: scope, actions: []) }
            return
        }
        let actions = scope[scope.index(after: last)...].split(separator: ",").map(String.init)
        add(resource: String(scope[..<last]), actions: actions)
    }

    mutating func add(resource: String, actions: some Sequence<String>) {
        grants[resource, default: []].formUnion(actions)
    }

    func union(_ other: ScopeSet) -> ScopeSet {
        var result = self
        for (resource, actions) in other.grants { result.add(resource: resource, actions: actions) }
        return result
    }

    /// True when every action `other` needs is granted here (`*` grants every action).
    func covers(_ other: ScopeSet) -> Bool {
        other.grants.allSatisfy { resource, actions in
            guard let granted = grants[resource] else { return false }
            return granted.contains("*") || actions.isSubset(of: granted)
        }
    }

    /// Scope strings with sorted actions, sorted: the form sent to the token realm.
    var scopeStrings: [String] {
        grants.map { resource, actions in
            actions.isEmpty ? resource : "\(resource):\(actions.sorted().joined(separator: ","))"
        }.sorted()
    }

    /// The cache key: sorted scope strings joined by a space.
    var key: String { scopeStrings.joined(separator: " ") }

    var description: String { isEmpty ? "(no scope)" : key }
}
