/// The one grammar for durations typed by people or sent by servers, and the ways Stevedore prints them.
///
/// Accepted: a sequence of `NUMBER UNIT` with units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`, `d` (`1h30m`,
/// `10.48ms`, `2d`, `90s`), or a bare number of seconds. This covers `--deadline`, `--since 7d`, and the hints
/// ghcr.io writes into its 429 messages (Go's duration syntax).
public enum DurationText {
    /// Parses `text` (case-insensitive, surrounding spaces ignored); nil when it is not a duration.
    public static func parse(_ text: String) -> Duration? {
        let text = text.lowercased().trimmingSpaces()
        var total = 0.0
        var index = text.startIndex
        var parsedAny = false
        while index < text.endIndex {
            let numberEnd = text[index...].firstIndex(where: { !($0.isASCIIDigit || $0 == ".") }) ?? text.endIndex
            guard numberEnd > index, let value = Double(text[index..<numberEnd]) else { return nil }
            let unitEnd = text[numberEnd...].firstIndex(where: { $0.isASCIIDigit || $0 == "." }) ?? text.endIndex
            let scale: Double
            switch text[numberEnd..<unitEnd] {
            case "ns": scale = 1e-9
            case "us", "µs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s", "": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            case "d": scale = 86_400
            default: return nil
            }
            // A bare number is only allowed alone: `1h30` is a typo, not 1h30s.
            if text[numberEnd..<unitEnd].isEmpty && (parsedAny || unitEnd != text.endIndex) { return nil }
            total += value * scale
            parsedAny = true
            index = unitEnd
        }
        guard parsedAny, total.isFinite else { return nil }
        return .microseconds(Int64((total * 1e6).rounded()))
    }

    /// A positive duration, or nil (zero and unparsable text are both refused).
    public static func positive(_ text: String) -> Duration? {
        parse(text).flatMap { $0 > .zero ? $0 : nil }
    }

    /// `850 ms` below ten seconds, else `12.3 s`.
    public static func short(milliseconds: Int) -> String {
        milliseconds < 10_000 ? "\(milliseconds) ms" : oneDecimal(Double(milliseconds) / 1000) + " s"
    }

    /// Seconds with one decimal, from milliseconds: `1234` -> `1.2`.
    public static func seconds(milliseconds: Int) -> String {
        oneDecimal(Double(milliseconds) / 1000)
    }

    /// `m:ss`, or `h:mm:ss` from an hour on (at most 99:59:59); whole seconds, rounded up from the millisecond.
    public static func clock(seconds: Double) -> String {
        let whole = seconds.isFinite ? (Int((min(max(seconds, 0), 359_999) * 1000).rounded()) + 999) / 1000 : 359_999
        let (hours, minutes, secs) = (whole / 3600, whole / 60 % 60, whole % 60)
        return hours > 0 ? "\(hours):\(pad2(minutes)):\(pad2(secs))" : "\(minutes):\(pad2(secs))"
    }

    /// One decimal, rounded half away from zero, without Foundation's formatter.
    public static func oneDecimal(_ value: Double) -> String {
        guard value.isFinite else { return "-" }
        let tenths = Int((abs(value) * 10).rounded())
        return (value < 0 && tenths > 0 ? "-" : "") + "\(tenths / 10).\(tenths % 10)"
    }

    private static func pad2(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

extension Duration {
    /// The duration in seconds, as a floating-point number.
    public var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }

    /// Whole milliseconds, rounded down.
    public var milliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { self >= "0" && self <= "9" }
}

extension StringProtocol {
    fileprivate func trimmingSpaces() -> String {
        guard let start = firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let end = lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(self[start...end])
    }
}
