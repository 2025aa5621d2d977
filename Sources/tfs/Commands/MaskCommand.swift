import ArgumentParser
import Foundation
import Script
import ScriptLibrary
import Visual

/// `tfs mask LAYOUT --mask EXPR [-o FILE]`: a mask for a layout, in the terminal or to a file.
struct MaskCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mask",
        abstract: "Draw an attention mask for a sequence layout.",
        discussion: """
            LAYOUT is like "text:5 image:4x4 text:3" (BOI and EOI are placed around each image; \
            "/" starts a new document). EXPR is a mask expression as in scripts: causal, \
            same_image, prefix(n), window(n), same_document, combined with | & ~.
            """)

    @Argument(help: "The sequence layout, e.g. \"text:5 image:4x4 text:3\".") var layout: String
    @Option(name: .long, help: "The mask expression.") var mask = "causal | same_image"
    @Option(name: .shortAndLong, help: "Write a .png, .svg or .safetensors file (U8 tensor named 'mask').")
    var output: [String] = []
    @Flag(help: "Fail (exit 1) if some query would attend to no key.") var check = false

    func run() throws {
        for path in output { try OutputFile.checkWritable(path, option: "-o") }
        switch MaskExpression.evaluate(mask, layout: layout) {
        case .failure(let error):
            FileHandle.standardError.write(Data((error.text + "\n").utf8))
            throw ExitCode(65)
        case .success(let matrix):
            if output.isEmpty {
                print(MaskPicture(matrix).terminal(color: isatty(1) != 0), terminator: "")
            }
            for path in output {
                try OutputFile.writing(path, option: "-o") { try MaskExpression.write(matrix, to: path) }
                print("wrote \(path)")
            }
            if check {
                do { try matrix.validate() } catch {
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    throw ExitCode(1)
                }
            }
        }
    }
}
