import HTTPTransport
import Synchronization
import Timekeeping

/// Bearer tokens of one registry client, keyed by their sorted scope set.
///
/// A request uses any unexpired token whose scopes cover what it needs, so one token fetched for
/// `repository:ns/a:pull,push repository:ns/src:pull` serves every request of a push to `ns/a`.
/// Concurrent requests needing the same scopes share one in-flight fetch. Lock-protected rather than
/// an actor so a cache hit costs no suspension.
final class TokenCache: Sendable {
    typealias Fetch = @Sendable (ScopeSet) async throws(RegistryError) -> BearerToken

    private struct InFlight {
        let scopes: ScopeSet
        let task: Task<BearerToken, any Error>
    }

    private struct State {
        var tokens: [String: BearerToken] = [:]
        /// Resource (`repository:ns/a`) -> keys of the tokens naming it.
        var byResource: [String: Set<String>] = [:]
        var inFlight: [Int: InFlight] = [:]
        var nextFetchID = 0
        var insertsSinceSweep = 0
    }

    private let state = Mutex(State())
    private let time: any TimeSource

    init(time: any TimeSource) {
        self.time = time
    }

    /// The cached, usable token covering `required`, if any.
    func cached(covering required: ScopeSet) -> BearerToken? {
        let now = time.monotonic
        return state.withLock { Self.lookup(required, in: $0, now: now, rejecting: nil) }
    }

    /// A usable token covering `required`: cached, shared with a fetch in flight, or fetched for `fetchScopes`
    /// (which should include `required`). A cached token equal to `rejecting` (just refused) is not reused.
    func token(covering required: ScopeSet, fetchScopes: ScopeSet, rejecting: String? = nil,
               fetch: @escaping Fetch) async throws(RegistryError) -> BearerToken {
        let now = time.monotonic
        enum Plan { case hit(BearerToken), wait(Task<BearerToken, any Error>), own(Int, Task<BearerToken, any Error>) }
        let plan: Plan = state.withLock { state in
            if !required.isEmpty, let hit = Self.lookup(required, in: state, now: now, rejecting: rejecting) {
                return .hit(hit)
            }
            if !required.isEmpty, let shared = state.inFlight.values.first(where: { $0.scopes.covers(required) }) {
                return .wait(shared.task)
            }
            let id = state.nextFetchID
            state.nextFetchID += 1
            let task = Task<BearerToken, any Error> { try await fetch(fetchScopes) }
            state.inFlight[id] = InFlight(scopes: fetchScopes, task: task)
            return .own(id, task)
        }
        switch plan {
        case .hit(let token):
            return token
        case .wait(let task):
            return try await Self.value(of: task)
        case .own(let id, let task):
            let result = await task.result
            state.withLock { state in
                state.inFlight[id] = nil
                if case .success(let token) = result, !token.scopes.isEmpty { Self.insert(token, into: &state, now: now) }
            }
            return try await Self.value(of: task)
        }
    }

    /// Forgets every cached token with this value (the registry refused it).
    func invalidate(_ value: String) {
        state.withLock { state in
            for (key, token) in state.tokens where token.value == value {
                Self.remove(key: key, token: token, from: &state)
            }
        }
    }

    var count: Int { state.withLock { $0.tokens.count } }

    private static func value(of task: Task<BearerToken, any Error>) async throws(RegistryError) -> BearerToken {
        do {
            return try await task.value
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.transport(operation: "GET token", TransportError(kind: .other, message: "cancelled"))
        }
    }

    private static func lookup(_ required: ScopeSet, in state: State, now: Duration,
                               rejecting: String?) -> BearerToken? {
        guard let resource = required.resources.first, let keys = state.byResource[resource] else { return nil }
        var best: BearerToken?
        for key in keys {
            guard let token = state.tokens[key], token.value != rejecting, token.isUsable(at: now),
                  token.scopes.covers(required) else { continue }
            if best == nil || token.usableUntil > best!.usableUntil { best = token }
        }
        return best
    }

    private static func insert(_ token: BearerToken, into state: inout State, now: Duration) {
        let key = token.scopes.key
        state.tokens[key] = token
        for resource in token.scopes.resources { state.byResource[resource, default: []].insert(key) }
        state.insertsSinceSweep += 1
        if state.insertsSinceSweep >= 256 {
            state.insertsSinceSweep = 0
            for (key, cached) in state.tokens where !cached.isUsable(at: now) {
                remove(key: key, token: cached, from: &state)
            }
        }
    }

    private static func remove(key: String, token: BearerToken, from state: inout State) {
        state.tokens[key] = nil
        for resource in token.scopes.resources {
            state.byResource[resource]?.remove(key)
            if state.byResource[resource]?.isEmpty == true { state.byResource[resource] = nil }
        }
    }
}
