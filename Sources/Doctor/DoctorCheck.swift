/// One line of `stevedore doctor`: what was checked, on what, how it came out and, when it failed, what to do.
public struct DoctorCheck: Sendable, Equatable, Codable {
    public enum Outcome: String, Sendable, Codable {
        /// As it should be.
        case pass
        /// Works, but something is worth knowing (a nearly skewed clock, a token that could do more than needed).
        case warn
        /// Will make a run fail: `remedy` says what to change.
        case fail
        /// A fact with no verdict (which credential source was used, what could not be checked and why).
        case info
    }

    /// The check's name, e.g. `credentials`, `registry`, `login`, `push`, `clock`, `settings.xml`, `database`.
    public var check: String
    /// What it was run on: a host, a repository group, a file.
    public var subject: String
    public var outcome: Outcome
    /// The finding, one line, never a secret.
    public var detail: String
    /// What to do about a failure or a warning.
    public var remedy: String?

    public init(_ check: String, _ subject: String, _ outcome: Outcome, _ detail: String, remedy: String? = nil) {
        self.check = check
        self.subject = subject
        self.outcome = outcome
        self.detail = detail
        self.remedy = remedy
    }
}

extension Array where Element == DoctorCheck {
    /// True when no check failed (warnings and facts do not fail `doctor`).
    public var allPass: Bool { !contains { $0.outcome == .fail } }
}
