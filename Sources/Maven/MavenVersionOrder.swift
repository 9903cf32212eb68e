/// Maven's version order, closely enough to sort what one repository holds
/// (https://maven.apache.org/pom.html#version-order-specification): `1.2 < 1.10`,
/// `1.0-alpha-1 < 1.0-beta < 1.0-rc1 < 1.0-SNAPSHOT < 1.0 < 1.0-sp1`, `1.0 == 1.0.0`; unknown qualifiers
/// come after the known ones, in lexical order.
public enum MavenVersionOrder {
    /// Whether `lhs` sorts before `rhs`; versions that compare equal fall back to their text, so the order
    /// is total and deterministic.
    public static func areInIncreasingOrder(_ lhs: String, _ rhs: String) -> Bool {
        switch compare(lhs, rhs) {
        case .orderedAscending: return true
        case .orderedDescending: return false
        case .orderedSame: return lhs < rhs
        }
    }

    /// Compares two versions by Maven's rules, ignoring case.
    public static func compare(_ lhs: String, _ rhs: String) -> Ordering {
        let left = items(lhs)
        let right = items(rhs)
        for index in 0..<max(left.count, right.count) {
            let order = compare(index < left.count ? left[index] : nil, index < right.count ? right[index] : nil)
            if order != .orderedSame { return order }
        }
        return .orderedSame
    }

    public enum Ordering: Sendable, Equatable {
        case orderedAscending, orderedSame, orderedDescending
    }

    // MARK: Internals

    enum Item: Equatable {
        /// Digits without leading zeros ("" for zero).
        case number(String)
        case text(String)
    }

    /// Splits at `.` and `-` and where digits meet letters; drops trailing zeros and release qualifiers.
    static func items(_ version: String) -> [Item] {
        var result: [Item] = []
        var current = ""
        var currentIsDigits = false
        func flush() {
            guard !current.isEmpty else { return }
            if currentIsDigits {
                let trimmed = String(current.drop { $0 == "0" })
                result.append(.number(trimmed))
            } else {
                result.append(.text(current))
            }
            current = ""
        }
        for character in version.lowercased() {
            if character == "." || character == "-" || character == "_" {
                flush()
                continue
            }
            let isDigit = character.isASCII && character.isNumber
            if !current.isEmpty, isDigit != currentIsDigits { flush() }
            currentIsDigits = isDigit
            current.append(character)
        }
        flush()
        while let last = result.last, isNull(last) { result.removeLast() }
        return result
    }

    private static func isNull(_ item: Item) -> Bool {
        switch item {
        case .number(let digits): return digits.isEmpty
        case .text(let text): return rank(text) == releaseRank
        }
    }

    private static let releaseRank = 5

    /// alpha < beta < milestone < rc = cr < snapshot < (release) < sp < anything else.
    private static func rank(_ qualifier: String) -> Int {
        switch qualifier {
        case "alpha", "a": return 0
        case "beta", "b": return 1
        case "milestone", "m": return 2
        case "rc", "cr": return 3
        case "snapshot": return 4
        case "", "ga", "final", "release": return releaseRank
        case "sp": return 6
        default: return 7
        }
    }

    private static func compare(_ lhs: Item?, _ rhs: Item?) -> Ordering {
        switch (lhs, rhs) {
        case (nil, nil):
            return .orderedSame
        case (.number(let a)?, .number(let b)?):
            if a.count != b.count { return a.count < b.count ? .orderedAscending : .orderedDescending }
            return a == b ? .orderedSame : (a < b ? .orderedAscending : .orderedDescending)
        case (.number(let a)?, nil):
            return a.isEmpty ? .orderedSame : .orderedDescending
        case (nil, .number(let b)?):
            return b.isEmpty ? .orderedSame : .orderedAscending
        case (.number?, .text?):
            return .orderedDescending
        case (.text?, .number?):
            return .orderedAscending
        case (.text(let a)?, nil):
            return compareText(a, "")
        case (nil, .text(let b)?):
            return compareText("", b)
        case (.text(let a)?, .text(let b)?):
            return compareText(a, b)
        }
    }

    private static func compareText(_ a: String, _ b: String) -> Ordering {
        let (ra, rb) = (rank(a), rank(b))
        if ra != rb { return ra < rb ? .orderedAscending : .orderedDescending }
        if ra == 7, a != b { return a < b ? .orderedAscending : .orderedDescending }
        return .orderedSame
    }
}
