@testable import Doctor
import Foundation
import HTTPTransport
@testable import OCI
import Testing

/// The pieces of `doctor` that need no server: JWT scopes, the Date header, clock skew, how results fold into lines.
@Suite struct DoctorCheckTests {
    static func jwt(_ payload: String) -> String {
        func segment(_ text: String) -> String {
            Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        }
        return segment(#"{"alg":"RS256","typ":"JWT"}"#) + "." + segment(payload) + ".c2lnbmF0dXJl"
    }

    @Test func grantedActionsComeFromTheAccessClaim() throws {
        let api = try RepositoryName(validating: "acme/api"), web = try RepositoryName(validating: "acme/web")
        let token = Self.jwt(#"{"iss":"t","access":[{"type":"repository","name":"acme/api","actions":["pull"]}]}"#)
        #expect(RegistryClient.grantedActions(token: token, repository: api) == ["pull"])
        #expect(RegistryClient.grantedActions(token: token, repository: web) == [])
        let all = Self.jwt(#"{"access":[{"type":"repository","name":"acme/web","actions":["*"]}]}"#)
        #expect(RegistryClient.grantedActions(token: all, repository: web) == ["pull", "push"])
        // ghcr.io's tokens are not JWTs: the answer must come from a probe.
        #expect(RegistryClient.grantedActions(token: "djE6YWNtZS9hcGk6MTIzNDU2", repository: api) == nil)
        #expect(RegistryClient.grantedActions(token: Self.jwt(#"{"sub":"x"}"#), repository: api) == nil)
    }

    @Test func httpDatesParseAndPrint() throws {
        let date = try #require(HTTPDate.parse("Wed, 02 Dec 2026 20:51:31 GMT"))
        #expect(date.timeIntervalSince1970 == 1_796_244_691)
        #expect(HTTPDate.format(date) == "Wed, 02 Dec 2026 20:51:31 GMT")
        #expect(HTTPDate.parse("yesterday") == nil)
    }

    @Test func clockSkewPassesWarnsAndFails() {
        let now = Date(timeIntervalSince1970: 1_000_000)
        #expect(ClockCheck.check(server: now.addingTimeInterval(-4), local: now, subject: "r").outcome == .pass)
        #expect(ClockCheck.check(server: now.addingTimeInterval(30), local: now, subject: "r").outcome == .warn)
        let far = ClockCheck.check(server: now.addingTimeInterval(-7260), local: now, subject: "r")
        #expect(far.outcome == .fail && far.detail == "this machine's clock is 2 h 1 min ahead of the server's")
        #expect(ClockCheck.describe(-90) == "90 s behind")
        #expect(ClockCheck.check(server: nil, local: now, subject: "r").outcome == .info)
    }

    @Test func permissionsFoldIntoOneLinePerOutcome() throws {
        let names = try (1...6).map { try RepositoryName(validating: "acme/s\($0)") }
        let readOnly = RepositoryPermission(level: .readOnly, evidence: .tokenClaims, detail: nil)
        let readWrite = RepositoryPermission(level: .readWrite, evidence: .tokenClaims, detail: nil)
        let results = names.enumerated().map { index, name in
            (name, Result<RepositoryPermission, RegistryError>.success(index == 2 ? readWrite : readOnly))
        }
        let checks = PermissionSummary(host: "ghcr.io", expected: .readWrite).checks(results)
        #expect(checks.count == 2)
        #expect(checks[0].outcome == .fail && checks[0].detail
                == "read-only (from the token scopes) for 5 of 6 repositories (acme/s1, acme/s2, acme/s4, +2 more)")
        #expect(checks[0].remedy?.contains("write:packages") == true)
        #expect(checks[1].outcome == .pass && checks[1].detail.hasSuffix("for 1 of 6 repositories (acme/s3)"))
        // A partner's check: read-only is what it should be, read-write is worth a warning.
        let partner = PermissionSummary(host: "ghcr.io", expected: .readOnly).checks(results)
        #expect(partner.map(\.outcome) == [.pass, .warn] && partner.allSatisfy { $0.check == "pull" })
    }

    @Test func theReportShowsRemediesOnlyForProblems() throws {
        let checks = [DoctorCheck("login", "ghcr.io", .pass, "token exchange works for ci", remedy: "unused"),
                      DoctorCheck("push", "ghcr.io", .fail, "read-only", remedy: "use write:packages")]
        let text = DoctorReport.text(checks)
        #expect(text == """
            ok    login  ghcr.io  token exchange works for ci
            FAIL  push   ghcr.io  read-only -> use write:packages
            doctor: 1 of 2 checks failed
            """)
        let json = try JSONSerialization.jsonObject(with: Data(DoctorReport.json(checks).utf8)) as? [String: Any]
        #expect(json?["ok"] as? Bool == false && (json?["checks"] as? [Any])?.count == 2)
    }
}
