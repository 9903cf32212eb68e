/// Explains why no credentials were found for a repository id: the `<server><id>` in settings.xml must equal
/// the id the deploy uses (the pom's `<distributionManagement>` repository id, or one given on the command
/// line). This is the most common reason a first publish to GitHub Packages answers 401.
public enum ServerIDMismatch {
    /// Where the repository id the publish looks up came from.
    public enum Source: Sendable, Equatable {
        /// `<distributionManagement><repository>` (or `<snapshotRepository>` when `snapshot`) of this pom.
        case pom(path: String, snapshot: Bool)
        /// A command-line option, e.g. `--id`.
        case option(String)
    }

    /// One line saying which ids settings.xml has, which id was wanted, and how to make them meet; nil when
    /// `settings` has a server with exactly `repositoryID`.
    ///
    /// - Parameters:
    ///   - settings: the settings read, or nil when the file does not exist.
    ///   - settingsPath: the file that was (or would have been) read.
    ///   - idOption: the command-line option that overrides the id, named in the remedy.
    public static func explain(repositoryID: String, source: Source, settings: MavenSettings?, settingsPath: String,
                               idOption: String = "--id") -> String? {
        let ids = settings?.serverIDs
        if let ids, ids.contains(repositoryID) { return nil }
        let wanted: String
        switch source {
        case .pom(let path, let snapshot):
            wanted = "the pom's distributionManagement \(snapshot ? "snapshotRepository" : "repository") id is "
                + "'\(repositoryID)' (\(path))"
        case .option(let option):
            wanted = "\(option) is '\(repositoryID)'"
        }
        let entry = "<server><id>\(repositoryID)</id><username>USER</username>"
            + "<password>${env.GITHUB_TOKEN}</password></server>"
        guard let ids else {
            return "settings file \(settingsPath) does not exist, but \(wanted): create it with \(entry), "
                + "or set GITHUB_TOKEN"
        }
        guard !ids.isEmpty else {
            return "settings file \(settingsPath) has no servers, but \(wanted): add \(entry) to it"
        }
        let listed = "[" + ids.joined(separator: ", ") + "]"
        var remedy = "add \(entry)"
        if let nearly = ids.first(where: { $0.lowercased() == repositoryID.lowercased() }) {
            remedy = "ids are case-sensitive: rename '\(nearly)' to '\(repositoryID)', or \(remedy)"
        }
        if case .pom = source {
            let suggestion = ids.count == 1 ? "\(idOption) \(ids[0])" : idOption
            remedy += " or pass \(suggestion)"
        }
        return "settings file \(settingsPath) has servers \(listed) but \(wanted); \(remedy)"
    }
}
