import Foundation
import TestSupport
import Timekeeping

// make bench: `stevedore maven publish` of N artifact versions (jar, sources, pom of realistic sizes) into Debian's
// nginx as a WebDAV Maven repository, side by side with `mvn deploy:deploy-file` per version (how scripts do it
// today) into a second, fresh nginx. mvn pays a JVM start per version (about 1.5 s here), so it runs on the first
// SAMPLE versions and its time is scaled to N (per-version cost is flat: one JVM, three files, metadata).
//
//   BenchMaven STEVEDORE WORKDIR N SAMPLE
//   → lines: tool versions wall_s versions_per_s puts requests_per_file ; then the rerun's PUT count

let arguments = CommandLine.arguments
guard arguments.count == 5, let n = Int(arguments[3]), let sample = Int(arguments[4]), sample > 0 else {
    FileHandle.standardError.write(Data("usage: BenchMaven STEVEDORE WORKDIR N SAMPLE\n".utf8))
    exit(2)
}
let (stevedore, work) = (arguments[1], arguments[2])
let group = "com/example/bench"

/// Random bytes (a jar's content does not matter to a repository) of `size`, written to `path`.
func writeRandom(_ path: String, size: Int) throws {
    var generator = SystemRandomNumberGenerator()
    let bytes = (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) }
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Version `i` of `lib` laid out as a staged repository: jar (~180 KB), sources (~40 KB), pom.
func stage(_ index: Int, into root: String) throws -> (jar: String, sources: String, pom: String) {
    let version = "1.0.\(index)"
    let directory = "\(root)/\(group)/lib/\(version)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let base = "\(directory)/lib-\(version)"
    try writeRandom(base + ".jar", size: 150_000 + index % 7 * 10_000)
    try writeRandom(base + "-sources.jar", size: 40_000 + index % 5 * 2_000)
    try Data("""
        <?xml version="1.0" encoding="UTF-8"?>
        <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
          <groupId>com.example.bench</groupId><artifactId>lib</artifactId><version>\(version)</version>
          <packaging>jar</packaging>
        </project>
        """.utf8).write(to: URL(fileURLWithPath: base + ".pom"))
    return (base + ".jar", base + "-sources.jar", base + ".pom")
}

func puts(_ fixture: MavenRepositoryFixture) -> Int { fixture.accessLog().filter { $0.method == "PUT" }.count }

let staging = "\(work)/maven-staging"
try? FileManager.default.removeItem(atPath: staging)
var files: [(jar: String, sources: String, pom: String)] = []
for index in 0..<n { files.append(try stage(index, into: staging)) }
let fileCount = Double(n * 3)

// stevedore
let target = try await MavenRepositoryFixture.start()
let settings = "\(work)/maven-settings.xml"
try Data("""
    <settings><servers><server><id>bench</id><username>\(target.writer.username)</username>\
    <password>\(target.writer.password)</password></server></servers></settings>
    """.utf8).write(to: URL(fileURLWithPath: settings))
let clock = ContinuousClock()
var start = clock.now
let published = try await ChildProcess.run(
    executable: stevedore, arguments: ["maven", "publish", staging, "--repository", target.baseURL, "-s", settings,
                                       "--id", "bench", "--db", "\(work)/maven-\(UUID().uuidString).db", "--quiet"],
    environment: [:], timeout: .seconds(1200))
let stevedoreSeconds = (clock.now - start).seconds
guard published.succeeded else { FileHandle.standardError.write(Data("stevedore failed: \(published)\n".utf8)); exit(1) }
let stevedoreRequests = target.accessLog().count
print(String(format: "stevedore %d %.2f %.1f %d %.2f", n, stevedoreSeconds, Double(n) / stevedoreSeconds, puts(target),
             Double(stevedoreRequests) / fileCount))
let before = puts(target)
let again = try await ChildProcess.run(
    executable: stevedore, arguments: ["maven", "publish", staging, "--repository", target.baseURL, "-s", settings,
                                       "--id", "bench", "--db", "\(work)/maven-\(UUID().uuidString).db", "--quiet"],
    environment: [:], timeout: .seconds(600))
print("rerun \(again.succeeded ? "ok" : "failed") \(puts(target) - before)")
await target.stop()

// mvn deploy:deploy-file per version, on the first `sample` versions.
let reference = try await MavenRepositoryFixture.start()
let mavenSettings = try MavenTestSettings(localRepository: "\(work)/maven-local",
                                          servers: [.init(id: "bench", credentials: reference.writer)])
    .write(to: "\(work)/mvn-settings.xml")
start = clock.now
for file in files.prefix(sample) {
    let run = try await MavenTool.run([MavenTool.deployFile, "-Dfile=\(file.jar)", "-DpomFile=\(file.pom)",
                                       "-Dsources=\(file.sources)", "-DrepositoryId=bench", "-Durl=\(reference.baseURL)",
                                       // The same four checksum files per file as stevedore uploads.
                                       "-Daether.checksums.algorithms=\(MavenTool.allChecksumAlgorithms.joined(separator: ","))"],
                                      settings: mavenSettings, workingDirectory: work)
    guard run.succeeded else { FileHandle.standardError.write(Data("mvn failed: \(run)\n".utf8)); exit(1) }
}
let mavenSample = (clock.now - start).seconds
let mavenSeconds = mavenSample / Double(sample) * Double(n)
print(String(format: "mvn %d %.2f %.1f %d %.2f (%d versions measured in %.1f s, scaled)", n, mavenSeconds,
             Double(n) / mavenSeconds, puts(reference) * n / sample,
             Double(reference.accessLog().count) / Double(sample * 3), sample, mavenSample))
await reference.stop()
