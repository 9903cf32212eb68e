import Foundation
import HTTPTransport
import ImagePush
import JobRunner
import OCI
import Workflows
import Testing

@Suite struct ClassificationTests {
    func classify(_ status: Int, _ code: String? = nil, message: String? = nil, operation: String = "PUT manifest a:latest",
                  retryAfter: String? = nil) -> JobFailure {
        let details = code.map { [RegistryErrorDetail(code: $0, message: message)] } ?? []
        return JobFailure.classify(RegistryError.http(operation: operation, status: status, details: details,
                                                     retryAfter: retryAfter),
                                  now: Date(timeIntervalSince1970: 1_700_000_000))
    }

    @Test func statusesAndCodesMapToTheDocumentedClasses() {
        #expect(classify(429, "TOOMANYREQUESTS").failureClass == .rateLimited)
        #expect(classify(403, "DENIED", message: "secondary rate limit exceeded").failureClass == .rateLimited)
        #expect(classify(403, "DENIED", message: "permission_denied: write_package").failureClass == .denied)
        #expect(classify(401, "UNAUTHORIZED").failureClass == .authFailed)
        #expect(classify(401, "DENIED", message: "insufficient scope").failureClass == .denied)
        for status in [500, 502, 503, 504] { #expect(classify(status).failureClass == .server) }
        #expect(classify(404, "BLOB_UPLOAD_UNKNOWN", operation: "PUT blob a sha256:1").failureClass == .uploadSessionLost)
        #expect(classify(404, operation: "PUT blob a sha256:1").failureClass == .uploadSessionLost)
        #expect(classify(416, operation: "PATCH blob a").failureClass == .uploadSessionLost)
        #expect(classify(404, "MANIFEST_UNKNOWN").failureClass == .notFound)
        #expect(classify(400, "NAME_INVALID").failureClass == .invalid)
        #expect(classify(400, "MANIFEST_INVALID").failureClass == .invalid)
    }

    @Test func transportAndAuthErrors() {
        let reset = RegistryError.transport(operation: "PUT blob", TransportError(kind: .reset, message: "connection reset"))
        #expect(JobFailure.classify(reset, now: Date()).failureClass == .network)
        let auth = RegistryError.authentication(operation: "GET token", status: 401, message: "rejected")
        #expect(JobFailure.classify(auth, now: Date()).failureClass == .authFailed)
        #expect(JobFailure.classify(CancellationError(), now: Date()).failureClass == .cancelled)
    }

    @Test func retryAfterHeaderSecondsAndDates() {
        #expect(classify(429, retryAfter: "3").retryAfter == .seconds(3))
        #expect(classify(503, retryAfter: "0.25").retryAfter == .milliseconds(250))
        let later = Date(timeIntervalSince1970: 1_700_000_010)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        #expect(classify(429, retryAfter: formatter.string(from: later)).retryAfter == .seconds(10))
        #expect(classify(429, retryAfter: "soon").retryAfter == nil)
    }

    @Test func ghcrMessageHint() {
        let error = classify(429, "TOOMANYREQUESTS", message: "retry-after: 10.48ms, allowed: 2000/minute")
        #expect(error.retryAfter == .microseconds(10_480))
        #expect(RetryAfter.hint(inMessage: "Retry-After: 1m30s") == .seconds(90))
        #expect(RetryAfter.hint(inMessage: "retry-after: 2s") == .seconds(2))
        #expect(RetryAfter.hint(inMessage: "no hint here") == nil)
        #expect(RetryAfter.hint(inMessage: "retry-after: banana") == nil)
    }

    @Test func theHeaderWinsOverTheMessageHint() {
        let error = classify(429, "TOOMANYREQUESTS", message: "retry-after: 10ms", retryAfter: "2")
        #expect(error.retryAfter == .seconds(2))
    }
}

@Suite struct RedactionTests {
    @Test func secretFlagValuesAreHidden() {
        let line = Redaction.commandLine(["stevedore", "provision", "s.yaml", "--password", "hunter2",
                                          "--token=abc", "https://u:pw@host/x", "--username", "bob"])
        #expect(line == "stevedore provision s.yaml --password *** --token=*** https://u:***@host/x --username bob")
        #expect(!line.contains("hunter2"))
    }
}
