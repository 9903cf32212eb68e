import OCI
import Workflows
import Testing

@Suite struct ServicesFileTests {
    func parse(_ text: String) throws(ServicesFileError) -> ServicesFile {
        try ServicesFile.parse(Array(text.utf8), path: "svc.yaml")
    }

    func problems(_ text: String) -> [String] {
        do {
            _ = try parse(text)
            Issue.record("expected the file to be rejected")
            return []
        } catch {
            return error.description.split(separator: "\n").map(String.init)
        }
    }

    @Test func parsesDefaultsAndOverrides() throws {
        let file = try parse("""
            registry: ghcr.io
            namespace: agile-learning-institute
            tags: [latest]
            services:
              - stage0_kafka_connect
              - name: stage0_mongo_api
                tags: [latest, "0.1.0"]
            """)
        #expect(file.registry?.description == "ghcr.io")
        #expect(file.namespace == "agile-learning-institute")
        #expect(file.services.map(\.repository.value) == ["agile-learning-institute/stage0_kafka_connect",
                                                          "agile-learning-institute/stage0_mongo_api"])
        #expect(file.services.map { $0.tags.map(\.value) } == [["latest"], ["latest", "0.1.0"]])
        #expect(file.services.map(\.line) == [5, 6])
    }

    @Test func registrySourcesAndAFileWidePlaceholderImage() throws {
        let file = try parse("""
            placeholder: docker://docker.io/library/hello-world:latest
            services:
              - a
              - name: base
                image: docker://alpine:3.20
            """)
        #expect(file.placeholder?.description == "docker://docker.io/library/hello-world:latest")
        #expect(file.services[1].image?.description == "docker://docker.io/library/alpine:3.20")
        #expect(problems("placeholder: docker://Bad/Name\nservices: [a]\n")
            == ["svc.yaml:1: invalid placeholder 'docker://Bad/Name': is not an image reference: image reference "
                + "'Bad/Name' is invalid: repository name 'Bad/Name' is invalid: must be lowercase (component 'Bad')"])
    }

    @Test func tagsDefaultToLatestAndRegistryIsOptional() throws {
        let file = try parse("services: [a, b/c]\n")
        #expect(file.registry == nil)
        #expect(file.services.map { $0.tags.map(\.value) } == [["latest"], ["latest"]])
        #expect(file.services.map(\.repository.value) == ["a", "b/c"])
    }

    @Test func unquotedNumericTagsKeepTheirSpelling() throws {
        let file = try parse("services:\n  - name: a\n    tags: [1.10, 2]\n")
        #expect(file.services[0].tags.map(\.value) == ["1.10", "2"])
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let lines = problems("""
            registry: ghcr.io
            namespace: Agile
            services:
              - good
              - Bad_Name
              - name: ok2
                tags: ["-nope", latest, latest]
              - good
              - name: x
                tag: [latest]
            """)
        #expect(lines.contains { $0.hasPrefix("svc.yaml:2: invalid namespace 'Agile'") })
        #expect(lines.contains { $0.hasPrefix("svc.yaml:7: invalid tag '-nope'") })
        #expect(lines.contains("svc.yaml:7: duplicate tag 'latest'"))
        #expect(lines.contains { $0.hasPrefix("svc.yaml:10: unknown key 'tag'") })
    }

    @Test func duplicateServicesNameTheFirstLine() {
        let lines = problems("services:\n  - a\n  - b\n  - a\n")
        #expect(lines == ["svc.yaml:4: duplicate service 'a' (first listed on line 2)"])
    }

    @Test func invalidRepositoryNamesAreRejectedWithTheValue() {
        let lines = problems("namespace: org\nservices:\n  - UPPER\n  - bad..dots\n  - trailing-\n")
        #expect(lines.count == 3)
        #expect(lines[0].hasPrefix("svc.yaml:3: invalid service 'UPPER'"))
        #expect(lines[1].hasPrefix("svc.yaml:4: invalid service 'bad..dots'"))
        #expect(lines[2].hasPrefix("svc.yaml:5: invalid service 'trailing-'"))
    }

    @Test func structuralMistakes() {
        #expect(problems("- a\n- b\n").first?.contains("expected a mapping") == true)
        #expect(problems("registry: x\n") == ["svc.yaml:1: missing 'services': list the services to provision"])
        #expect(problems("services: []\n").first?.contains("'services' is empty") == true)
        #expect(problems("services: a\n").first?.contains("must be a list") == true)
        #expect(problems("services:\n  - [a]\n").first == "svc.yaml:2: a service must be a name or a mapping with 'name' and 'tags'")
        #expect(problems("registry: http://x/y\nservices: [a]\n").first?.hasPrefix("svc.yaml:1: invalid registry") == true)
    }

    @Test func brokenYamlNamesTheLine() {
        let lines = problems("services:\n  - a\n  - [b\n")
        #expect(lines.count == 1)
        #expect(lines[0].hasPrefix("svc.yaml:"))
        #expect(lines[0].contains("invalid yaml"))
    }

    @Test func aMissingFileSaysSo() {
        #expect(throws: ServicesFileError.self) { try ServicesFile.load(path: "/nonexistent/services.yaml") }
        do {
            _ = try ServicesFile.load(path: "/nonexistent/services.yaml")
        } catch {
            #expect(error.description == "/nonexistent/services.yaml: cannot read the file (no such file)")
        }
    }

    @Test func fileDigestIsTheSha256OfItsBytes() throws {
        let text = "services: [a]\n"
        #expect(try parse(text).sha256 == Digest.sha256(Array(text.utf8)))
    }
}
