import AuditStore
import Foundation

/// The run's timeline as inline SVG: jobs packed into lanes (one per worker slot), their attempts as bars
/// coloured by outcome, the waits between attempts, and the rate limiter's pauses as bands across all lanes.
struct Timeline {
    struct Bar {
        var start: Double
        var end: Double
        var kind: String
        var title: String
    }

    struct Lane {
        var end: Double = -.infinity
        var bars: [Bar] = []
    }

    let origin: Date
    let span: Double
    let lanes: [Lane]
    let pauses: [(start: Double, end: Double, title: String)]

    static let width = 1100.0
    static let labelWidth = 60.0

    init(_ data: RunReportData) {
        let origin = Timestamp.date(data.summary.startedAt) ?? Date()
        func offset(_ text: String?) -> Double? {
            text.flatMap(Timestamp.date).map { $0.timeIntervalSince(origin) }
        }
        let attemptsByJob = Dictionary(grouping: data.attempts, by: \.jobID)
        var lanes: [Lane] = []
        var latest = offset(data.summary.finishedAt) ?? 0
        let jobs = data.jobs.compactMap { job -> (JobRow, Double, Double)? in
            let attempts = attemptsByJob[job.id] ?? []
            guard let start = offset(job.startedAt) ?? attempts.compactMap({ offset($0.startedAt) }).min() else { return nil }
            let attemptEnd = attempts.compactMap { a in offset(a.startedAt).map { $0 + Double(a.durationMs) / 1000 } }.max()
            let end = max(offset(job.finishedAt) ?? attemptEnd ?? start, attemptEnd ?? start)
            return (job, start, end)
        }.sorted { $0.1 < $1.1 }
        for (job, start, end) in jobs {
            latest = max(latest, end)
            var bars: [Bar] = []
            var previousEnd: Double?
            for attempt in (attemptsByJob[job.id] ?? []).sorted(by: { $0.number < $1.number }) {
                guard let begin = offset(attempt.startedAt) else { continue }
                let finish = begin + Double(attempt.durationMs) / 1000
                if let previousEnd, begin > previousEnd {
                    bars.append(Bar(start: previousEnd, end: begin, kind: "wait",
                                    title: "\(job.service): waited \(HTMLReport.duration(Int((begin - previousEnd) * 1000))) before attempt \(attempt.number)"))
                }
                let kind = switch attempt.outcome {
                case .succeeded: "ok"
                case .cancelled: "cancelled"
                case .failed: attempt.errorClass == "rate_limited" ? "throttled" : "failed"
                }
                var title = "\(job.service) attempt \(attempt.number): \(attempt.outcome.rawValue), \(attempt.durationMs) ms"
                if let errorClass = attempt.errorClass { title += ", \(errorClass)" }
                if let status = attempt.httpStatus { title += ", HTTP \(status)" }
                if let message = attempt.message { title += ": \(message)" }
                bars.append(Bar(start: begin, end: finish, kind: kind, title: title))
                previousEnd = finish
            }
            if bars.isEmpty {
                bars.append(Bar(start: start, end: end, kind: job.status == .cancelled ? "cancelled" : "failed",
                                title: "\(job.service): \(job.status.rawValue), no attempt recorded"))
            }
            if let index = lanes.firstIndex(where: { $0.end <= start }) {
                lanes[index].bars += bars
                lanes[index].end = end
            } else {
                lanes.append(Lane(end: end, bars: bars))
            }
        }
        self.pauses = data.pauses.compactMap { pause in
            guard let start = offset(pause.pausedAt) else { return nil }
            latest = max(latest, start + Double(pause.durationMs) / 1000)
            return (start, start + Double(pause.durationMs) / 1000,
                    "rate-limiter pause of \(HTMLReport.duration(pause.durationMs)) (\(pause.reason))")
        }
        self.origin = origin
        self.span = max(latest, 0.001)
        self.lanes = lanes
    }

    func svg() -> String {
        let laneHeight = lanes.count > 60 ? max(3, 600 / Double(lanes.count)) : 14
        let top = 18.0
        let height = top + laneHeight * Double(max(lanes.count, 1)) + 6
        let scale = (Self.width - Self.labelWidth - 10) / span
        func x(_ seconds: Double) -> String { format(Self.labelWidth + seconds * scale) }
        func w(_ seconds: Double) -> String { format(max(seconds * scale, 0.8)) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(format(Self.width))\" height=\"\(format(height))\" "
            + "viewBox=\"0 0 \(format(Self.width)) \(format(height))\" role=\"img\" aria-label=\"timeline of jobs and attempts\">\n"
        let step = Self.tickStep(span)
        var tick = 0.0
        while tick <= span + 1e-9 {
            svg += "<line x1=\"\(x(tick))\" y1=\"\(format(top - 4))\" x2=\"\(x(tick))\" y2=\"\(format(height))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(x(tick))\" y=\"11\" text-anchor=\"middle\">\(Self.label(tick))</text>\n"
            tick += step
        }
        for pause in pauses {
            svg += "<rect class=\"pause\" x=\"\(x(pause.start))\" y=\"\(format(top))\" width=\"\(w(pause.end - pause.start))\" "
                + "height=\"\(format(height - top))\" fill=\"rgba(240,140,0,0.22)\" stroke=\"#f08c00\" stroke-width=\"0.5\">"
                + "<title>\(HTMLReport.escape(pause.title))</title></rect>\n"
        }
        let colours = ["ok": "#2f9e44", "failed": "#d63c3c", "throttled": "#f08c00", "cancelled": "#868e96", "wait": "#ced4da"]
        for (index, lane) in lanes.enumerated() {
            let y = top + Double(index) * laneHeight
            if laneHeight >= 10 { svg += "<text x=\"4\" y=\"\(format(y + laneHeight - 3))\">slot \(index + 1)</text>" }
            for bar in lane.bars {
                let inset = bar.kind == "wait" ? laneHeight * 0.4 : 1
                svg += "<rect class=\"\(bar.kind)\" x=\"\(x(bar.start))\" y=\"\(format(y + inset))\" width=\"\(w(bar.end - bar.start))\" "
                    + "height=\"\(format(max(laneHeight - 2 * inset, 1)))\" fill=\"\(colours[bar.kind] ?? "#999")\">"
                    + "<title>\(HTMLReport.escape(bar.title))</title></rect>"
            }
            svg += "\n"
        }
        return svg + "</svg>\n"
    }

    /// A tick interval giving at most about ten ticks.
    static func tickStep(_ span: Double) -> Double {
        let steps = [0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200]
        return steps.first { span / $0 <= 10 } ?? span / 10
    }

    static func label(_ seconds: Double) -> String {
        if seconds >= 120 { return "\(Int(seconds) / 60)m\(Int(seconds) % 60 == 0 ? "" : "\(Int(seconds) % 60)s")" }
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : String(format: "%.2gs", seconds)
    }

    private func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
