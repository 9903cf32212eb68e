import Foundation
import Timekeeping

/// A report as named columns and rows of cells, rendered as an 80-column table, JSON or CSV.
///
/// Every format shows the same rows; the table shows only the columns with a table width, and the JSON
/// has every column as a key (with `null` for missing values) so scripts can rely on the keys.
public struct ReportTable: Sendable {
    public struct Column: Sendable {
        /// The JSON key and CSV header.
        public var key: String
        /// The table header; `nil`: not shown in the table.
        public var title: String?
        /// The widest the column gets in the table.
        public var maxWidth: Int
        /// Takes the width the other columns leave (one per table).
        public var flexible: Bool
        /// How the table shows the value (JSON and CSV always carry it as stored).
        public var display: Display

        public init(_ key: String, title: String? = nil, maxWidth: Int = 20, flexible: Bool = false,
                    display: Display = .plain) {
            self.key = key
            self.title = title
            self.maxWidth = maxWidth
            self.flexible = flexible
            self.display = display
        }
    }

    /// Table-only renderings of a value.
    public enum Display: Sendable {
        case plain
        /// `2026-11-25T03:31:19.123Z` as `2026-11-25 03:31`.
        case minute
        /// `sha256:ad1beab491c0153a…` as `sha256:ad1beab491c0`.
        case shortDigest
        /// Milliseconds as seconds with one decimal.
        case seconds

        func render(_ text: String) -> String {
            guard !text.isEmpty else { return self == .shortDigest ? "-" : text }
            switch self {
            case .plain:
                return text
            case .minute:
                return String(text.prefix(16)).replacingOccurrences(of: "T", with: " ")
            case .shortDigest:
                guard let colon = text.firstIndex(of: ":") else { return String(text.prefix(19)) }
                return String(text[...colon]) + String(text[text.index(after: colon)...].prefix(12))
            case .seconds:
                return Double(text).map { DurationText.seconds(milliseconds: Int($0)) } ?? text
            }
        }
    }

    public enum Cell: Sendable, Equatable {
        case text(String?)
        case int(Int?)
        case list([String])

        /// The cell as plain text (lists joined by spaces; missing values empty).
        public var plain: String {
            switch self {
            case .text(let text): text ?? ""
            case .int(let number): number.map(String.init) ?? ""
            case .list(let values): values.joined(separator: " ")
            }
        }
    }

    public var columns: [Column]
    public var rows: [[Cell]]

    public init(columns: [Column], rows: [[Cell]] = []) {
        self.columns = columns
        self.rows = rows
    }

    /// A JSON array of objects, one per row, with every column as a key in sorted order, two-space indented.
    /// Written directly (Foundation's serializer took most of the time of a thousand-row report).
    public func json() -> String {
        guard !rows.isEmpty else { return "[\n\n]" }
        let order = columns.indices.sorted { columns[$0].key < columns[$1].key }
        var out = "[\n"
        out.reserveCapacity(rows.count * columns.count * 24)
        for (number, row) in rows.enumerated() {
            out += "  {\n"
            for (position, index) in order.enumerated() {
                out += "    "
                Self.appendJSONString(columns[index].key, to: &out)
                out += " : "
                switch row[index] {
                case .text(let text): if let text { Self.appendJSONString(text, to: &out) } else { out += "null" }
                case .int(let value): out += value.map(String.init) ?? "null"
                case .list(let values):
                    out += "["
                    for (offset, value) in values.enumerated() {
                        if offset > 0 { out += ", " }
                        Self.appendJSONString(value, to: &out)
                    }
                    out += "]"
                }
                out += position == order.count - 1 ? "\n" : ",\n"
            }
            out += number == rows.count - 1 ? "  }\n" : "  },\n"
        }
        return out + "]"
    }

    static func appendJSONString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let control where control.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(control.value, radix: 16).count)
                    + String(control.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }

    /// RFC 4180 CSV with a header row of the JSON keys.
    public func csv() -> String {
        var lines = [columns.map { Self.csvField($0.key) }.joined(separator: ",")]
        for row in rows { lines.append(row.map { Self.csvField($0.plain) }.joined(separator: ",")) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func csvField(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Aligned columns that fit `width` terminal columns; long cells end in `…`.
    public func table(width: Int = 80) -> String {
        let shown = columns.indices.filter { columns[$0].title != nil }
        guard !shown.isEmpty else { return "" }
        // Each cell is rendered and measured once.
        let header = shown.map { Measured(columns[$0].title!) }
        let body = rows.map { row in shown.map { Measured(Self.oneLine(columns[$0].display.render(row[$0].plain))) } }
        var widths = shown.indices.map { position in body.reduce(header[position].width) { max($0, $1[position].width) } }
        for (position, index) in shown.enumerated() { widths[position] = min(widths[position], columns[index].maxWidth) }
        let gaps = 2 * (shown.count - 1)
        if let flex = shown.firstIndex(where: { columns[$0].flexible }) {
            let others = widths.enumerated().filter { $0.offset != flex }.reduce(0) { $0 + $1.element }
            widths[flex] = max(min(widths[flex], width - gaps - others), header[flex].width)
        }
        var out = ""
        out.reserveCapacity((rows.count + 1) * (width + 1))
        for (number, cells) in ([header] + body).enumerated() {
            if number > 0 { out += "\n" }
            var line = ""
            for (position, cell) in cells.enumerated() {
                let limit = widths[position]
                if cell.width > limit {
                    line += Self.fit(cell.text, limit)
                    if position < cells.count - 1 { line += "  " }
                } else {
                    line += cell.text
                    if position < cells.count - 1 { line += String(repeating: " ", count: limit - cell.width + 2) }
                }
            }
            out += line.trimmingTrailingSpaces()
        }
        return out
    }

    /// A rendered cell and its width in characters.
    private struct Measured {
        let text: String
        let width: Int
        init(_ text: String) {
            self.text = text
            // ASCII (the common case) is measured by its bytes; anything else by its characters.
            width = text.utf8.allSatisfy { $0 < 0x80 } ? text.utf8.count : text.count
        }
    }

    static func oneLine(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 10 || $0 == 13 }) else { return text }
        return text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    static func fit(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        guard width > 1 else { return String(text.prefix(width)) }
        return String(text.prefix(width - 1)) + "…"
    }
}

extension String {
    func trimmingTrailingSpaces() -> String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
