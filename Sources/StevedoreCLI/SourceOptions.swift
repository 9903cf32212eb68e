import ArgumentParser
import Credentials
import HTTPTransport
import Timekeeping
import Workflows

/// How images are read from source registries (`docker://` sources, `stevedore copy`): skopeo's `--src-*` flags.
struct SourceOptions: ParsableArguments {
    @Option(name: .customLong("src-creds"), help: ArgumentHelp("Credentials for the source registries (USER:PASSWORD, or USER to read the password from stdin); default: each source host's docker config entry, else anonymous. Never the destination's.", valueName: "user[:password]"))
    var credentials: String?

    @Option(name: .customLong("src-tls-verify"), help: ArgumentHelp("Verify the source registries' HTTPS certificates (false: accept any; recorded).", valueName: "bool"))
    var tlsVerify = true

    @Option(name: .customLong("src-plain-http"), help: ArgumentHelp("Use plain HTTP for this source host (loopback hosts always do).", valueName: "host"))
    var plainHTTP: [String] = []

    @Option(name: .customLong("src-rate"), help: ArgumentHelp("Requests per second to each source registry (default: 30 for ghcr.io, unlimited elsewhere; 0: unlimited).", valueName: "n"))
    var rate: Double?

    @Flag(name: .customLong("no-referrers"), help: "Do not copy signatures, attestations and OCI referrers with the images.")
    var noReferrers = false

    @Flag(name: .customLong("wait-for-pull-budget"), help: "When a source (Docker Hub) has fewer pulls left than the run needs, wait for its window instead of stopping.")
    var waitForPullBudget = false

    @Option(name: .customLong("pull-budget-poll"), help: .hidden)
    var pullBudgetPoll: String = "60s"

    func validate() throws {
        if let rate, !(rate >= 0 && rate.isFinite) { throw ValidationError("--src-rate must be 0 (unlimited) or positive") }
        guard DurationText.positive(pullBudgetPoll) != nil else {
            throw ValidationError("--pull-budget-poll '\(pullBudgetPoll)' is not a duration like 30s or 5m")
        }
    }

    /// The settings, reading the password from standard input when `--src-creds` names only a user.
    func settings() throws -> SourceSettings {
        var settings = SourceSettings()
        if let credentials {
            settings.credentials = try Self.credentials(credentials, flag: "--src-creds")
        }
        settings.plainHTTPHosts = plainHTTP
        settings.trust = tlsVerify ? .system : .insecureSkipVerify
        settings.rate = rate
        settings.copyReferrers = !noReferrers
        settings.waitForPullBudget = waitForPullBudget
        settings.pullBudgetPoll = DurationText.positive(pullBudgetPoll) ?? .seconds(60)
        return settings
    }

    /// `USER:PASSWORD`, or `USER` with the password on standard input (skopeo's `--creds` form).
    static func credentials(_ text: String, flag: String) throws -> Credentials {
        if let colon = text.firstIndex(of: ":") {
            let user = String(text[..<colon]), secret = String(text[text.index(after: colon)...])
            guard !user.isEmpty, !secret.isEmpty else {
                throw CommandError("\(flag) wants USER:PASSWORD (or USER, with the password on stdin)", status: .usage)
            }
            return Credentials(username: user, secret: secret)
        }
        guard !text.isEmpty else { throw CommandError("\(flag) is empty: give USER:PASSWORD", status: .usage) }
        return Credentials(username: text, secret: try CredentialResolver.readSecretFromStandardInput())
    }
}
