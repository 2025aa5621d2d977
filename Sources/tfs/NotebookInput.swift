import ArgumentParser
import Foundation

/// A Jupyter notebook (`.ipynb`, nbformat 4) read as a script: its code cells become `# %%`
/// cells and its markdown cells `# %% [markdown]` cells, in order, so `tfs run x.ipynb` runs
/// what `tfs notebook` wrote (or a notebook the tfs kernel saved). A notebook in another
/// language, or a file that is not a notebook, is refused with the reason (exit status 65).
enum NotebookInput {
    /// The percent-format text of the notebook at `path`, whose bytes are `data`.
    static func script(_ data: Data, path: String) throws -> String {
        func refuse(_ why: String) -> ExitCode {
            printError("tfs: cannot run '\(path)': \(why)")
            return ExitCode(65)
        }
        guard let object = try? JSONSerialization.jsonObject(with: data),
              let notebook = object as? [String: Any] else {
            throw refuse("it is not a Jupyter notebook (not a JSON object)")
        }
        guard let cells = notebook["cells"] as? [[String: Any]] else {
            throw refuse("it is not a Jupyter notebook (no \"cells\" list; nbformat 4 is read)")
        }
        let metadata = notebook["metadata"] as? [String: Any]
        let language = (metadata?["language_info"] as? [String: Any])?["name"] as? String
            ?? (metadata?["kernelspec"] as? [String: Any])?["language"] as? String
        if let language, language.lowercased() != "tfs" {
            throw refuse("its cells are \(language), not tfs (the notebook's metadata says so)")
        }
        var text: [String] = []
        for (i, cell) in cells.enumerated() {
            let source: String
            switch cell["source"] {
            case let s as String: source = s
            case let lines as [String]: source = lines.joined()
            case nil: source = ""
            default: throw refuse("cell \(i + 1) has a source that is neither text nor a list of lines")
            }
            let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            switch cell["cell_type"] as? String {
            case "code":
                text.append("# %%")
                text += lines
            case "markdown":
                text.append("# %% [markdown]")
                text += lines.map { $0.isEmpty ? "#" : "# " + $0 }
            default:
                continue   // raw cells hold no code
            }
        }
        return text.joined(separator: "\n") + "\n"
    }

    static func isNotebook(_ path: String) -> Bool { path.lowercased().hasSuffix(".ipynb") }
}
