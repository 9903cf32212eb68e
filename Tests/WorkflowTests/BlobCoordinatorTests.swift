import ImagePush
import OCI
import Testing

/// The run-wide blob ledger: one transfer per blob, every other repository mounts from where it landed.
@Suite struct BlobCoordinatorTests {
    let digest = Digest.sha256(Array("layer".utf8))
    func repository(_ index: Int) -> RepositoryName { try! RepositoryName(validating: "ns/svc\(index)") }

    @Test func concurrentJobsTransferOnceAndTheOthersMountFromIt() async throws {
        let coordinator = BlobCoordinator()
        let plans = await withTaskGroup(of: (Int, BlobCoordinator.Plan).self) { group in
            for index in 0..<20 {
                group.addTask {
                    let plan = await coordinator.plan(digest, for: repository(index))
                    if case .transfer = plan {
                        try? await Task.sleep(for: .milliseconds(20))  // the upload
                        await coordinator.finished(digest, in: repository(index), success: true)
                    } else if case .mount = plan {
                        await coordinator.holds(digest, in: repository(index))
                    }
                    return (index, plan)
                }
            }
            var all: [(Int, BlobCoordinator.Plan)] = []
            for await plan in group { all.append(plan) }
            return all
        }
        let transfers = plans.filter { if case .transfer = $0.1 { return true } else { return false } }
        #expect(transfers.count == 1)
        let uploader = repository(transfers[0].0)
        #expect(plans.filter { $0.1 == .mount(from: uploader) }.count == 19)
        // A repository that got it earlier in the run sends nothing.
        #expect(await coordinator.plan(digest, for: uploader) == .present)
        #expect(await coordinator.source(of: digest, excluding: repository(99)) == uploader)
    }

    @Test func aFailedTransferLetsTheNextJobTryAndTheAuditLogNamesASource() async throws {
        let known = try RepositoryName(validating: "ns/old")
        let coordinator = BlobCoordinator(history: { _ in known })
        #expect(await coordinator.plan(digest, for: repository(1)) == .transfer(mountFrom: known))
        await coordinator.finished(digest, in: repository(1), success: false)
        // The log's source was tried once: the next job uploads itself.
        #expect(await coordinator.plan(digest, for: repository(2)) == .transfer(mountFrom: nil))
        await coordinator.finished(digest, in: repository(2), success: true)
        #expect(await coordinator.plan(digest, for: repository(3)) == .mount(from: repository(2)))
        // Manifests: a later job for another tag of the same repository needs only its tag.
        let manifest = Digest.sha256(Array("manifest".utf8))
        #expect(await !coordinator.hasManifest(manifest, in: repository(2)))
        await coordinator.holds(manifest: manifest, in: repository(2))
        #expect(await coordinator.hasManifest(manifest, in: repository(2)))
        #expect(await !coordinator.hasManifest(manifest, in: repository(3)))
    }
}
