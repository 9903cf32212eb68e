import ArgumentParser
import Foundation
@testable import StevedoreCLI
import Testing
import Yams

/// The GitHub Actions examples are valid YAML, and every `stevedore` command in their `run:` steps parses with the
/// CLI's own parser (so a renamed or removed flag breaks this test, not a user's workflow).
@Suite struct ExampleWorkflowTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../examples/github-actions").standardized

    static func workflows() throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "yml" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    /// The `run:` scripts of every step of every job.
    static func scripts(_ url: URL) throws -> [String] {
        let text = try String(contentsOf: url, encoding: .utf8)
        guard let root = try Yams.load(yaml: text) as? [String: Any] else { throw Failure("\(url.lastPathComponent): not a mapping") }
        guard let jobs = root["jobs"] as? [String: Any], !jobs.isEmpty else { throw Failure("\(url.lastPathComponent): no jobs") }
        guard root["name"] is String else { throw Failure("\(url.lastPathComponent): no name") }
        return try jobs.values.flatMap { job -> [String] in
            guard let job = job as? [String: Any], job["runs-on"] != nil, let steps = job["steps"] as? [[String: Any]] else {
                throw Failure("\(url.lastPathComponent): a job without runs-on or steps")
            }
            return steps.compactMap { $0["run"] as? String }
        }
    }

    /// Each `stevedore …` command of a script, as the shell would split it; `${{ }}` expressions and `$VARIABLES`
    /// stand for one word each.
    static func invocations(_ script: String) -> [[String]] {
        let joined = script.replacingOccurrences(of: "\\\n", with: " ")
        return joined.split(separator: "\n").compactMap { line -> [String]? in
            let words = ShellWords.split(String(line))
            guard let start = words.firstIndex(of: "stevedore"), start == words.startIndex else { return nil }
            return Array(words[words.index(after: start)...])
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    @Test func everyWorkflowIsValidYAMLAndEveryStevedoreCommandParses() throws {
        let files = try Self.workflows()
        #expect(files.map(\.lastPathComponent) == ["maven.yml", "provision.yml", "release.yml"])
        var commands: Set<String> = []
        for file in files {
            let invocations = try Self.scripts(file).flatMap(Self.invocations)
            #expect(!invocations.isEmpty, "\(file.lastPathComponent) runs no stevedore command")
            for arguments in invocations {
                do {
                    _ = try Stevedore.parseAsRoot(arguments)
                } catch {
                    Issue.record("\(file.lastPathComponent): stevedore \(arguments.joined(separator: " ")): \(Stevedore.message(for: error))")
                }
                commands.insert(arguments.prefix(2).joined(separator: " "))
            }
        }
        // The three jobs: provisioning, a release, a Maven publish; each checked by doctor first.
        for expected in ["provision", "push", "maven publish", "doctor", "report release"] {
            #expect(commands.contains { $0 == expected || $0.hasPrefix(expected + " ") }, "no '\(expected)' in \(commands)")
        }
    }

    @Test func aFlagThatDoesNotExistIsCaught() {
        #expect(throws: (any Error).self) { try Stevedore.parseAsRoot(["push", "release.yaml", "--version", "1", "--latest-tag"]) }
        #expect(Self.invocations("stevedore push \\\n  f.yaml --version \"${GITHUB_REF_NAME#v}\" > out.json")
                == [["push", "f.yaml", "--version", "value"]])
    }
}

/// Enough of the shell's word splitting for workflow steps: quotes, `${{ }}` and `$NAME` expansions (one word
/// each), and the end of a command at `|`, `>`, `&&`, `;` or `#`.
enum ShellWords {
    static func split(_ line: String) -> [String] {
        var text = line
        while let open = text.range(of: "${{"), let close = text.range(of: "}}", range: open.upperBound..<text.endIndex) {
            text.replaceSubrange(open.lowerBound..<close.upperBound, with: "value")
        }
        var words: [String] = [], current = "", quote: Character?, inWord = false
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if let open = quote, !(open == "\"" && character == "$") {
                if character == open { quote = nil } else { current.append(character) }
            } else if quote == nil, character == "\"" || character == "'" {
                quote = character
                inWord = true
            } else if character == "$" {
                // $NAME or ${...}: one placeholder word.
                var end = text.index(after: index)
                if end < text.endIndex, text[end] == "{" {
                    end = text[end...].firstIndex(of: "}").map { text.index(after: $0) } ?? text.endIndex
                } else {
                    while end < text.endIndex, text[end].isLetter || text[end].isNumber || text[end] == "_" { end = text.index(after: end) }
                }
                current += "value"
                inWord = true
                index = end
                continue
            } else if character == " " || character == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else if "|>;#&".contains(character) {
                break
            } else {
                current.append(character)
                inWord = true
            }
            index = text.index(after: index)
        }
        if inWord { words.append(current) }
        return words
    }
}
