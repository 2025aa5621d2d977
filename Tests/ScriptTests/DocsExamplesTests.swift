import Foundation
import Testing
@testable import Script
@testable import ScriptLibrary

/// Every ```python example of docs/language.md runs, in order, in one session, without error.
@Suite struct DocsExamplesTests {
    static var docsURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/language.md")
    }

    /// The fenced examples before the generated reference (whose examples `BuiltinDocsTests` runs).
    static func examples() throws -> [(line: Int, code: String)] {
        let text = try String(contentsOf: docsURL, encoding: .utf8)
        let guide = text.components(separatedBy: "## Builtin reference").first ?? text
        var out: [(Int, String)] = [], current: [String]? = nil, start = 0
        for (i, line) in guide.components(separatedBy: "\n").enumerated() {
            if line == "```python" { current = []; start = i + 2 }
            else if line == "```", let code = current { out.append((start, code.joined(separator: "\n"))); current = nil }
            else { current?.append(line) }
        }
        return out
    }

    @Test func everyGuideExampleRuns() throws {
        let examples = try Self.examples()
        #expect(examples.count >= 7)
        let session = Session(registry: .tfs)
        for (line, code) in examples {
            let result = session.run(source: code, file: "docs/language.md", line: line)
            #expect(result.failure == nil, "example at docs/language.md:\(line): \(result.outputs)")
        }
    }
}
