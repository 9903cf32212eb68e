import Foundation

/// Compares this machine's clock with a server's `Date` header. Registries accept tokens within a minute of
/// their validity window (distribution's leeway is 60 s); past that, every token looks expired or not yet valid.
enum ClockCheck {
    /// Up to this many seconds apart: fine (the header has one-second resolution and the answer took a while).
    static let tolerated = 10.0
    /// Beyond this: tokens fail.
    static let failing = 60.0

    static func check(server: Date?, local: Date, subject: String) -> DoctorCheck {
        guard let server else {
            return DoctorCheck("clock", subject, .info, "the server sent no Date header: skew not checked")
        }
        let skew = local.timeIntervalSince(server)
        let shown = describe(skew)
        if abs(skew) <= tolerated {
            return DoctorCheck("clock", subject, .pass, "within \(Int(tolerated)) s of the server's clock (\(shown))")
        }
        let outcome: DoctorCheck.Outcome = abs(skew) > failing ? .fail : .warn
        return DoctorCheck("clock", subject, outcome, "this machine's clock is \(shown) the server's", remedy: Remedy.clock)
    }

    /// `3 s ahead of`, `2 h 5 min behind`.
    static func describe(_ skew: Double) -> String {
        let seconds = Int(abs(skew).rounded())
        let amount: String
        switch seconds {
        case ..<120: amount = "\(seconds) s"
        case ..<7200: amount = "\(seconds / 60) min"
        default: amount = "\(seconds / 3600) h \(seconds % 3600 / 60) min"
        }
        return skew >= 0 ? "\(amount) ahead of" : "\(amount) behind"
    }
}
