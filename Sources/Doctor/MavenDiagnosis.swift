import Credentials
import Foundation
import HTTPTransport
import HTTPTypes
import Maven
import MavenPublish
import Timekeeping

/// The checklist for publishing a directory to a Maven repository, in the order GitHub's troubleshooting table
/// goes: the layout and GitHub's lowercase rule, the settings.xml `<server><id>` against the poms' repository id,
/// the credentials found, whether the repository answers and accepts them, the token's scopes where the server
/// names them, and the clock. Only GETs are sent.
public struct MavenDiagnosis: Sendable {
    public var directory: String
    public var repositoryURL: String
    public var lookup: MavenCredentialLookup
    public var transport: any HTTPTransport
    public var time: any TimeSource

    public init(directory: String, repositoryURL: String, lookup: MavenCredentialLookup, transport: any HTTPTransport,
                time: any TimeSource = SystemTime()) {
        self.directory = directory
        self.repositoryURL = repositoryURL
        self.lookup = lookup
        self.transport = transport
        self.time = time
    }

    var subject: String {
        guard let parts = URLParts(repositoryURL + "/") else { return repositoryURL }
        var path = parts.path
        while path.hasSuffix("/") { path.removeLast() }
        return parts.authority + path
    }

    public func run() async -> [DoctorCheck] {
        var checks: [DoctorCheck] = []
        let scan: RepositoryScan
        do {
            scan = try RepositoryScanner(root: directory).scan()
        } catch {
            return [DoctorCheck("layout", directory, .fail, error.description,
                                remedy: "give the directory mvn deployed into (-DaltDeploymentRepository=staging::file:DIR)")]
        }
        if let problem = scan.problems.first {
            checks.append(DoctorCheck("layout", directory, .fail, problem.description,
                                      remedy: "fix or remove the file named, then rerun"))
        } else if scan.versions.isEmpty {
            checks.append(DoctorCheck("layout", directory, .fail, "no artifact version found",
                                      remedy: "give the directory mvn deployed into (-DaltDeploymentRepository=staging::file:DIR)"))
        } else {
            let files = scan.versions.reduce(0) { $0 + $1.files.count }
            checks.append(DoctorCheck("layout", directory, .pass, "\(scan.versions.count) artifact versions, \(files) files"))
        }
        checks += namesChecks(scan.versions)
        let plan = MavenPlan(directory: scan.root, repositoryURL: repositoryURL, versions: scan.versions)
        checks += settingsChecks(plan)
        let found: MavenCredentialLookup.Found?
        do {
            found = try lookup.resolve(plan, required: false)
            checks.append(found.map { DoctorCheck("credentials", subject, .info, "\($0.source) (user \($0.credentials.username))") }
                ?? DoctorCheck("credentials", subject, .fail, "none found: a publish cannot authenticate",
                               remedy: "add the settings.xml <server> the poms name (or pass --id), or set GITHUB_TOKEN"))
        } catch {
            checks.append(DoctorCheck("credentials", subject, .fail, error.description))
            found = nil
        }
        checks += await repositoryChecks(plan, credentials: found?.credentials)
        return checks
    }

    /// GitHub Packages refuses (422) an uppercase owner or artifactId.
    private func namesChecks(_ versions: [ArtifactVersion]) -> [DoctorCheck] {
        guard GitHubPackagesRules.isGitHubPackages(repositoryURL) else { return [] }
        do {
            _ = try GitHubPackagesRules.repository(fromURL: repositoryURL)
        } catch {
            return [DoctorCheck("names", subject, .fail, error.description)]
        }
        var refused: [String] = []
        for version in versions {
            guard let coordinates = try? version.coordinates(of: version.pomFile) else { continue }
            if let problem = Result(catching: { () throws(GitHubPackagesError) in try GitHubPackagesRules.check(coordinates) })
                .failureDescription {
                refused.append(problem)
            }
        }
        guard let first = refused.first else {
            return [DoctorCheck("names", subject, .pass, "owner and every artifactId in lowercase, as GitHub Packages wants")]
        }
        return [DoctorCheck("names", subject, .fail, first + (refused.count > 1 ? " (and \(refused.count - 1) more)" : ""))]
    }

    /// Each repository id the poms deploy to (or `--id`) against the settings.xml servers.
    private func settingsChecks(_ plan: MavenPlan) -> [DoctorCheck] {
        let path = lookup.settingsPath ?? MavenSettings.defaultPath(environment: lookup.environment)
        let settings: MavenSettings?
        do {
            settings = try MavenSettings.load(path: path, environment: lookup.environment)
        } catch {
            if case .missingFile = error { settings = nil } else {
                return [DoctorCheck("settings.xml", path, .fail, error.description)]
            }
        }
        var wanted: [(id: String, source: ServerIDMismatch.Source)] = []
        if let id = lookup.idOption {
            wanted = [(id, .option("--id"))]
        } else {
            for version in plan.versions {
                guard let id = version.pom.deploymentRepository?.id, !wanted.contains(where: { $0.id == id }) else { continue }
                let snapshot = version.isSnapshot && version.pom.snapshotRepository != nil
                wanted.append((id, .pom(path: version.pom.path, snapshot: snapshot)))
            }
        }
        guard !wanted.isEmpty else {
            return [DoctorCheck("settings.xml", path, .info,
                                "the poms name no distributionManagement repository id: pass --id to pick a <server>")]
        }
        return wanted.map { id, source in
            if let why = ServerIDMismatch.explain(repositoryID: id, source: source, settings: settings, settingsPath: path) {
                return DoctorCheck("settings.xml", path, .fail, why)
            }
            let origin = if case .option = source { "--id" } else { "the poms' repository id" }
            return DoctorCheck("settings.xml", path, .pass, "server '\(id)' is there and matches \(origin)")
        }
    }

    /// One GET of the first artifact's `maven-metadata.xml` with the credentials: reachability, TLS, the clock, the
    /// credentials accepted for reading, and `X-OAuth-Scopes` when the server names the token's scopes.
    private func repositoryChecks(_ plan: MavenPlan, credentials: Credentials?) async -> [DoctorCheck] {
        guard let parts = URLParts(repositoryURL.hasSuffix("/") ? repositoryURL : repositoryURL + "/") else {
            return [DoctorCheck("repository", repositoryURL, .fail, "not an http(s) url",
                                remedy: "use e.g. https://maven.pkg.github.com/OWNER/REPO")]
        }
        var url = parts.absolute
        if let version = plan.versions.first {
            url += version.groupId.replacingOccurrences(of: ".", with: "/") + "/" + version.artifactId + "/maven-metadata.xml"
        }
        var request = TransportRequest(method: .get, url: url)
        if let credentials {
            guard HostPolicy.mayCarryCredentials(to: parts) else {
                return [DoctorCheck("repository", subject, .fail,
                                    "refusing to send credentials over plain http to \(parts.authority)",
                                    remedy: "use the https:// url")]
            }
            request.headerFields[.authorization] = credentials.basicAuthorization
        }
        let status: Int
        let headers: HTTPFields
        do {
            let answer = try await transport.send(request)
            _ = try await answer.body.collect(upTo: 1 << 20)
            (status, headers) = (answer.status, answer.headerFields)
        } catch {
            let failure = (error as? TransportError) ?? TransportError(kind: .other, message: "\(error)")
            return [DoctorCheck("repository", subject, .fail, failure.message,
                                remedy: failure.kind == .tls ? Remedy.untrusted : Remedy.unreachable)]
        }
        var checks = [answerCheck(status, credentials: credentials)]
        if let scopes = headers[HTTPField.Name("X-OAuth-Scopes")!] {
            let granted = Set(scopes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            checks.append(granted.contains("write:packages")
                ? DoctorCheck("push", subject, .pass, "the token's scopes include write:packages")
                : DoctorCheck("push", subject, .fail, "the token's scopes are [\(scopes)]: no write:packages",
                              remedy: Remedy.writeScope))
        } else if checks[0].outcome == .pass {
            checks.append(DoctorCheck("push", subject, .info,
                                      "write permission cannot be checked without publishing: a classic PAT needs "
                                      + "write:packages, GITHUB_TOKEN needs permissions: packages: write"))
        }
        checks.append(ClockCheck.check(server: headers[.date].flatMap(HTTPDate.parse), local: time.wallClock,
                                       subject: subject))
        return checks
    }

    private func answerCheck(_ status: Int, credentials: Credentials?) -> DoctorCheck {
        switch status {
        case 200, 404:
            let who = credentials.map { "the credentials of \($0.username)" } ?? "anonymous reads"
            return DoctorCheck("repository", subject, .pass, "answers \(status) to a metadata GET with \(who)")
        case 401 where credentials == nil:
            return DoctorCheck("repository", subject, .fail, "answers 401: reads need credentials (GitHub Packages "
                               + "wants a token even for public packages)", remedy: Remedy.noCredentials)
        case 401:
            return DoctorCheck("repository", subject, .fail, "answers 401: the credentials are refused (wrong user, "
                               + "expired or revoked token)", remedy: Remedy.newToken.replacingOccurrences(of: "HOST", with: subject))
        case 403:
            return DoctorCheck("repository", subject, .fail, "answers 403: the token may not read this repository",
                               remedy: "use a classic PAT with read:packages (and repo for a private repository)")
        default:
            return DoctorCheck("repository", subject, .fail, "answers \(status) to a metadata GET",
                               remedy: "check the repository url (https://maven.pkg.github.com/OWNER/REPO)")
        }
    }
}

extension Result {
    /// The error's description, for a check that only reports it.
    var failureDescription: String? {
        if case .failure(let error) = self { return "\(error)" }
        return nil
    }
}
