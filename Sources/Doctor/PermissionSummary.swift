import OCI

/// Folds the per-repository permissions into a few lines: one per outcome, naming the first repositories, so
/// fifty services with a read-only token make one line, not fifty.
struct PermissionSummary {
    let host: String
    let expected: RepositoryPermission.Level
    /// Repositories named on a line before `+N more`.
    static let named = 3

    func checks(_ results: [(RepositoryName, Result<RepositoryPermission, RegistryError>)]) -> [DoctorCheck] {
        var groups: [(key: String, outcome: DoctorCheck.Outcome, detail: String, remedy: String?, names: [String])] = []
        func add(_ key: String, _ outcome: DoctorCheck.Outcome, _ detail: String, _ remedy: String?, _ name: String) {
            if let index = groups.firstIndex(where: { $0.key == key }) {
                groups[index].names.append(name)
            } else {
                groups.append((key, outcome, detail, remedy, [name]))
            }
        }
        for (repository, result) in results {
            switch result {
            case .success(let permission):
                let (outcome, remedy) = verdict(permission.level)
                add("\(permission.level)/\(permission.evidence)", outcome,
                    "\(permission.level.rawValue) (from the \(permission.evidence.rawValue))", remedy, repository.value)
            case .failure(let error):
                add("error/\(error.description)", .fail, "not checked: \(error.description)",
                    "check the registry's health and rerun stevedore doctor", repository.value)
            }
        }
        let total = results.count
        return groups.map { group in
            let shown = group.names.prefix(Self.named).joined(separator: ", ")
                + (group.names.count > Self.named ? ", +\(group.names.count - Self.named) more" : "")
            let count = group.names.count == total ? "all \(total) repositories" : "\(group.names.count) of \(total) repositories"
            return DoctorCheck(expected == .readOnly ? "pull" : "push", host, group.outcome,
                               "\(group.detail) for \(count) (\(shown))", remedy: group.remedy)
        }
    }

    /// Whether `level` is what the run needs: publishing needs read-write; a partner's check expects read-only.
    private func verdict(_ level: RepositoryPermission.Level) -> (DoctorCheck.Outcome, String?) {
        switch (expected, level) {
        case (_, .none): (.fail, Remedy.noAccess)
        case (.readOnly, .readWrite): (.warn, Remedy.partnerHasWrite)
        case (.readOnly, .readOnly), (.readWrite, .readWrite): (.pass, nil)
        case (.readWrite, .readOnly): (.fail, Remedy.writeScope)
        case (.none, _): (.pass, nil)
        }
    }
}
