import ImageSources
import OCI

/// The pull-budget rule of a run with registry sources: before the first pull, each source host that announces a
/// budget (Docker Hub's `ratelimit-remaining`, read from the manifest HEADs that resolved the references, which are
/// not pulls) must have at least one pull left per distinct image the run may fetch from it. Otherwise the run
/// stops with the numbers and the remedy, or with `--wait-for-pull-budget` asks again (another HEAD) until it has.
///
/// The count is a lower bound: an index costs one pull for itself and one per child manifest fetched, which are
/// only known once it is read. A tag that already holds its source's digest needs no pull at all.
struct PullBudgetCheck: Sendable {
    let registries: SourceRegistries
    let context: WorkflowContext

    func ensure() async throws(WorkflowError) {
        for (host, images) in registries.distinctImages.sorted(by: { $0.key.description < $1.key.description }) {
            while let budget = registries.budgets[host], budget.remaining < images.count {
                let window = budget.windowSeconds.map { " per \(Self.window($0))" } ?? ""
                guard registries.settings.waitForPullBudget else {
                    throw .unavailable("source \(host) allows \(budget.remaining) more pulls (limit \(budget.limit)\(window)) "
                        + "but this run needs at least \(images.count); nothing was pulled. Wait for the window, log in to "
                        + "\(host) for a larger limit (--src-creds or docker login), mirror fewer images, or pass "
                        + "--wait-for-pull-budget")
                }
                context.progress.emit(.line("waiting for the pull budget of \(host): \(budget.remaining) left, "
                                            + "\(images.count) needed; asking again in "
                                            + "\(Self.window(Int(registries.settings.pullBudgetPoll.components.seconds)))"))
                do {
                    try await context.time.sleep(for: registries.settings.pullBudgetPoll)
                } catch {
                    throw .unavailable("stopped while waiting for the pull budget of \(host); nothing was pulled")
                }
                await refresh(host, images.probe)
            }
        }
    }

    /// Asks the host again (a HEAD: no pull) and keeps what it says now.
    private func refresh(_ host: RegistryHost, _ probe: ImageReference) async {
        guard let client = try? registries.client(for: probe),
              let head = try? await RegistryImageReader(client: client, meter: registries.meter).head(probe),
              let budget = head.pullBudget else { return }
        registries.replace(budget, for: host)
    }

    static func window(_ seconds: Int) -> String {
        if seconds >= 3600, seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds >= 60, seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
