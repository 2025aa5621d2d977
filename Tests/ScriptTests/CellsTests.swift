import Testing
@testable import Script
@testable import ScriptLibrary

@Suite struct CellsTests {
    @Test func splitsAtPercentMarkers() {
        let source = """
        # a script
        x = 1
        # %% data
        data = shapes()

        #%%
        show(data)
        # %% [markdown]
        # Some *notes*
        # %% train [markdown]
        # %%% not a marker
        """
        let cells = Cells.split(source)
        #expect(cells.map(\.title) == [nil, "data", nil, nil, "train"])
        #expect(cells.map(\.startLine) == [1, 4, 7, 9, 11])
        #expect(cells.map(\.markerLine) == [nil, 3, 6, 8, 10])
        #expect(cells.map(\.kind) == [.code, .code, .code, .markdown, .markdown])
        #expect(cells[0].source == "# a script\nx = 1")
        #expect(cells[1].source == "data = shapes()\n")
        #expect(cells[4].source == "# %%% not a marker")
    }

    @Test func blankPreambleIsDropped() {
        let cells = Cells.split("\n\n# %% a\nx = 1\n# %% b\ny = 2\n")
        #expect(cells.map(\.title) == ["a", "b"])
        #expect(cells[1].source == "y = 2\n")
    }

    @Test func noMarkersIsOneCell() {
        let cells = Cells.split("x = 1\ny = 2")
        #expect(cells == [Cell(title: nil, source: "x = 1\ny = 2", startLine: 1, markerLine: nil)])
    }

    @Test func blankCells() {
        let cells = Cells.split("# %% a\n# only a comment\n\n# %% b\nx = 1")
        #expect(cells.map(\.isBlank) == [true, false])
    }

    @Test func errorSpansPointAtTheLineOfTheWholeFile() {
        let source = "# %% one\nx = 1\n# %% two\ny = 2\nz = (1 +\n"
        let cell = Cells.split(source)[1]
        let result = Frontend.analyze(cell.source, file: "nb.tfs", line: cell.startLine)
        #expect(result.diagnostics.map(\.description) == ["nb.tfs:5:5: error: '(' was never closed"])
        #expect(result.diagnostics[0].render(source: source) == """
        nb.tfs:5:5: error: '(' was never closed
            z = (1 +
                ^
        """)
    }
}
