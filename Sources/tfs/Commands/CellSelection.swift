import ArgumentParser

/// The options `tfs run` and `tfs notebook` share: which cells, which overrides, where metrics go.
struct CellSelection: ParsableArguments {
    @Option(name: .long, help: "Run the cells up to and including this one (its number from 1, or its title).")
    var cell: String?

    @Option(name: .customLong("set"), parsing: .singleValue,
            help: ArgumentHelp("Override a top-level assignment: name=value (repeatable).", valueName: "name=value"))
    var settings: [String] = []

    @Option(name: .long, help: ArgumentHelp("Append one JSON object per recorded metric to this file (JSON Lines).", valueName: "file"))
    var metrics: String?
}
