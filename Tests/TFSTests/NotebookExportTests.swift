import Foundation
import Testing
import Visual

/// The notebook writers on a hand-built notebook holding every kind of cell and output.
@Suite struct NotebookExportTests {
    /// A real PNG (Graphviz-drawn) and SVG, so viewers can open what the tests write.
    static let dot = "digraph g { a -> b; }"
    static let png: Data = (try? GraphvizRenderer.png(dot)) ?? Data([0x89, 0x50, 0x4E, 0x47])
    static let svg: String = (try? GraphvizRenderer.svg(dot)) ?? "<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>"

    static func sample() -> Notebook {
        Notebook(cells: [
            NotebookCell(kind: .markdown, title: "intro", source: "# Shapes\nA *markdown* cell."),
            NotebookCell(title: "data", source: "x = 41\nprint(x + 1)\nx", outputs: [
                .stream("42\n"), .result("41"),
            ], executionCount: 1, seconds: 0.0123),
            NotebookCell(title: "tables & pictures", source: "show(table)\ngraph(y)", outputs: [
                .display(.table(headers: ["step", "loss"], rows: [["1", "2.5"], ["2", "<1.9>"]])),
                .display(.png(png, caption: "a grid")),
                .display(.svg(svg, caption: "graph of y")),
            ], executionCount: 2),
            NotebookCell(title: "data", source: "y + <oops>", outputs: [
                .stream("partial\n"),
                .error(name: "RuntimeError", message: "name 'y' is not defined",
                       traceback: ["s.tfs:9:1: error: name 'y' is not defined", "    y + <oops>", "    ^"]),
            ], executionCount: 3, status: .failed),
            NotebookCell(source: "print('never')", status: .notRun),
        ], title: "sample.tfs", sourcePath: "examples/sample.tfs", version: "0.1.0")
    }

    @Test func ipynbHasTheNbformat45Shape() throws {
        let data = try Self.sample().ipynb()
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(object["nbformat"] as? Int == 4)
        #expect(object["nbformat_minor"] as? Int == 5)
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect((metadata["kernelspec"] as? [String: Any])?["name"] as? String == "tfs")
        #expect((metadata["language_info"] as? [String: Any])?["name"] as? String == "tfs")
        let cells = try #require(object["cells"] as? [[String: Any]])
        // markdown, title+code, title+code, title+code, code (untitled, not run)
        #expect(cells.map { $0["cell_type"] as? String } ==
                ["markdown", "markdown", "code", "markdown", "code", "markdown", "code", "code"])
        let ids = cells.compactMap { $0["id"] as? String }
        #expect(ids.count == cells.count)
        #expect(Set(ids).count == ids.count, "cell ids are unique")
        for id in ids {
            #expect(id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        }
        // The title heading and the code cell's metadata.
        #expect(cells[1]["source"] as? [String] == ["## data"])
        let code = cells[2]
        #expect((code["metadata"] as? [String: Any])?["title"] as? String == "data")
        #expect(code["execution_count"] as? Int == 1)
        #expect(code["source"] as? [String] == ["x = 41\n", "print(x + 1)\n", "x"])
        let outputs = try #require(code["outputs"] as? [[String: Any]])
        #expect(outputs.map { $0["output_type"] as? String } == ["stream", "execute_result"])
        #expect(outputs[0]["name"] as? String == "stdout")
        #expect(outputs[1]["execution_count"] as? Int == 1)
        // Images: base64 PNG that decodes to the same bytes; SVG text without the XML prolog.
        let pictures = try #require(cells[4]["outputs"] as? [[String: Any]])
        #expect(pictures.map { $0["output_type"] as? String } == ["display_data", "display_data", "display_data"])
        let tableData = try #require(pictures[0]["data"] as? [String: Any])
        #expect((tableData["text/html"] as? String)?.contains("<td>&lt;1.9&gt;</td>") == true)
        let pngData = try #require(pictures[1]["data"] as? [String: Any])
        #expect(Data(base64Encoded: try #require(pngData["image/png"] as? String)) == Self.png)
        let svgData = try #require(pictures[2]["data"] as? [String: Any])
        let svgText = (svgData["image/svg+xml"] as? [String])?.joined() ?? ""
        #expect(svgText.hasPrefix("<svg"))
        // The error output.
        let failed = try #require(cells[6]["outputs"] as? [[String: Any]])
        let error = try #require(failed.last)
        #expect(error["output_type"] as? String == "error")
        #expect(error["ename"] as? String == "RuntimeError")
        #expect(error["evalue"] as? String == "name 'y' is not defined")
        #expect((error["traceback"] as? [String])?.count == 3)
        // Not run: no count, no outputs, marked in the metadata.
        let notRun = cells[7]
        #expect(notRun["execution_count"] is NSNull)
        #expect((notRun["outputs"] as? [Any])?.isEmpty == true)
        #expect(((notRun["metadata"] as? [String: Any])?["tfs"] as? [String: Any])?["status"] as? String == "not run")
    }

    @Test func duplicateTitlesStillGiveUniqueIDs() throws {
        let nb = Notebook(cells: (0..<3).map { _ in NotebookCell(title: "same", source: "1") })
        let cells = try #require(try JSONSerialization.jsonObject(with: nb.ipynb()) as? [String: Any])["cells"] as? [[String: Any]]
        let ids = (cells ?? []).compactMap { $0["id"] as? String }
        #expect(ids.count == 6 && Set(ids).count == 6)
    }

    @Test func nbformatValidatesTheExport() throws {
        try #require(Tool.pythonProblem("nbformat") == nil, "\(Tool.pythonProblem("nbformat") ?? "")")
        let dir = try Tool.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("sample.ipynb").path
        try Self.sample().ipynb().write(to: URL(fileURLWithPath: path))
        let problem = Tool.nbformatProblem(path)
        #expect(problem == nil, "\(problem ?? "")")
        // An empty notebook is valid too.
        try Notebook(cells: []).ipynb().write(to: URL(fileURLWithPath: path))
        #expect(Tool.nbformatProblem(path) == nil)
    }

    @Test func htmlIsSelfContainedAndShowsEveryOutput() throws {
        let html = NotebookHTML.page(Self.sample())
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(html.contains("<title>sample.tfs</title>"))
        #expect(html.contains("<style>"))
        // Sources are escaped, monospace, with their In [n] prompts.
        #expect(html.contains("y + &lt;oops&gt;"))
        #expect(html.contains("In [1]:") && html.contains("Out[1]:"))
        #expect(html.contains("<pre class=\"stream\">42\n</pre>"))
        #expect(html.contains("<pre class=\"result\">41</pre>"))
        // Table, PNG as a data: URI, SVG inline (without its XML prolog).
        #expect(html.contains("<th>step</th>") && html.contains("<td>&lt;1.9&gt;</td>"))
        #expect(html.contains("src=\"data:image/png;base64,\(Self.png.base64EncodedString())\""))
        #expect(html.contains("<figure class=\"svg\"><svg"))
        #expect(!html.contains("<?xml"))
        // The error in place, styled, with its message.
        #expect(html.contains("class=\"cell code failed\""))
        #expect(html.contains("<pre class=\"error\"><span class=\"ename\">RuntimeError</span>"))
        #expect(html.contains("name &#39;y&#39; is not defined"))
        #expect(html.contains("class=\"cell code not-run\""))
        #expect(html.contains("<div class=\"prose\"><h1>Shapes</h1>\n<p>A <em>markdown</em> cell.</p>"))
        // Nothing fetched from elsewhere.
        for external in ["<script", "<link", "src=\"http", "href=\"http", "@import"] {
            #expect(!html.contains(external), "\(external)")
        }
    }

    /// Markdown cells as HTML (CommonMark through libcmark), compared whole with the HTML the
    /// CommonMark spec gives for each construct.
    @Test(arguments: [
        ("## Results\n\nLoss *falls* to **0.1**.", "<h2>Results</h2>\n<p>Loss <em>falls</em> to <strong>0.1</strong>.</p>\n"),
        ("- one\n- `x < y`\n\n1. first", "<ul>\n<li>one</li>\n<li><code>x &lt; y</code></li>\n</ul>\n<ol>\n<li>first</li>\n</ol>\n"),
        ("see [the paper](https://arxiv.org/abs/2408.11039)", "<p>see <a href=\"https://arxiv.org/abs/2408.11039\">the paper</a></p>\n"),
        ("```\nif a < b && c:\n```", "<pre><code>if a &lt; b &amp;&amp; c:\n</code></pre>\n"),
        // Raw HTML and script links are not passed through.
        ("<script>alert(1)</script>", "<!-- raw HTML omitted -->\n"),
        ("[x](javascript:alert(1))", "<p><a href=\"\">x</a></p>\n"),
        ("a & b < c", "<p>a &amp; b &lt; c</p>\n"),
    ])
    func markdownCellsRenderAsHTML(_ markdown: String, _ html: String) {
        #expect(NotebookHTML.markdown(markdown) == html)
    }

    @Test func tableTextIsAligned() {
        let text = NotebookText.table(headers: ["a", "long name"], rows: [["123456", "x"], ["1"]])
        #expect(text == "a       long name\n──────  ─────────\n123456  x\n1")
    }
}
