import Foundation
import Script
import ScriptLibrary
import TensorGraph
import Transfusion
import Visual

/// The readers tfs exposes to untrusted bytes, one entry point each. Every input must end in
/// a result or a thrown error — a crash, a trap or a hang is a finding. Used by libFuzzer
/// (`FuzzEntry.swift`, built with `-sanitize=fuzzer`) and by the plain replay binary
/// (`Replay.swift`) that runs a saved corpus in the tests.
enum FuzzTarget: String, CaseIterable {
    /// Lexer, parser and checker: the script front end.
    case frontend
    /// A whole session: front end and interpreter, with a step budget and a deadline.
    case script
    /// The safetensors reader, and each tensor converted to floats.
    case safetensors
    /// The PNG decoder (also with its CRC checks off, so mutations reach the decoding).
    case png
    /// JSON Lines: an image folder's metadata.jsonl and a .jsonl text corpus.
    case jsonl
    /// A checkpoint as `load_model`, `load_vae` and `train(resume=)` read it: config, mask,
    /// tokenizer and weights, in a session.
    case checkpoint

    func run(_ bytes: Data) {
        switch self {
        case .frontend: Self.frontend(bytes)
        case .script: Self.script(bytes)
        case .safetensors: Self.safetensors(bytes)
        case .png:
            // Both ways: as files arrive, and past the CRC checks, which most mutations fail.
            _ = try? PNGDecoder.decode(bytes)
            _ = try? PNGDecoder.decode(bytes, checkingCRC: false)
        case .jsonl: Self.jsonl(bytes)
        case .checkpoint: Self.checkpoint(bytes)
        }
    }

    // MARK: script

    private static func frontend(_ bytes: Data) {
        _ = Session(registry: .tfs).check(source: String(decoding: bytes, as: UTF8.self), file: "fuzz.tfs")
    }

    /// One session for the whole run (reset every input), as the REPL keeps one.
    nonisolated(unsafe) private static let session: Session = {
        let s = Session(registry: .tfs)
        s.interpreter.stepLimit = 20_000
        return s
    }()
    nonisolated(unsafe) private static var watchdog: Watchdog?
    /// TFS_FUZZ_VERBOSE=1 prints what each cell printed and its errors (to read a replay).
    private static let verbose = ProcessInfo.processInfo.environment["TFS_FUZZ_VERBOSE"] == "1"

    private static func script(_ bytes: Data) {
        inSession([String(decoding: bytes, as: UTF8.self)])
    }

    /// Runs cells in the session, from a fresh state, each stopped after `seconds` (a twentieth
    /// of a second for inputs; nil: never). Returns the cells' errors.
    @discardableResult
    private static func inSession(_ cells: [String], seconds: Double? = 0.05) -> [String] {
        let watchdog = Self.watchdog ?? Watchdog(flag: session.interpreter.interruptFlag)
        Self.watchdog = watchdog
        session.reset()
        var errors: [String] = []
        for cell in cells {
            if let seconds { watchdog.arm(seconds: seconds) }
            let result = session.run(source: cell, file: "fuzz.tfs")
            watchdog.disarm()
            for case .error(let e) in result.outputs { errors.append("\(e)") }
            if verbose {
                for case .text(let t) in result.outputs { print(t) }
                for case .error(let e) in result.outputs { print(e) }
            }
        }
        return errors
    }

    /// The bytes are a checkpoint's metadata (a JSON object of strings: config, mask, step,
    /// rng, …) over the weights of a tiny model and a tiny VAE; the file is loaded as a model,
    /// as a VAE, and resumed by a one-step run. (Mutating whole files spends nearly every
    /// input on weight bytes; the safetensors target covers the container.)
    private static func checkpoint(_ bytes: Data) {
        guard let json = try? JSONSerialization.jsonObject(with: bytes), let metadata = json as? [String: String] else { return }
        let path = scratch.appendingPathComponent("input.safetensors").path
        guard (try? Safetensors.write(entries: baseWeights, metadata: metadata, to: path)) != nil else { return }
        inSession(["m = load_model('\(path)')", "v = load_vae('\(path)')",
                   "train(m, shapes(size=8), steps=1, batch=1, resume='\(path)')"])
    }

    /// The weights every checkpoint input is written with: a one-step run of a dim-8 model
    /// (its AdamW moments too) and a width-4 VAE. Made without the watchdog: on a loaded machine
    /// the step can outlast a twentieth of a second, and an interrupted base would leave every
    /// input without weights.
    private static let baseWeights: [Safetensors.Entry] = {
        let model = scratch.appendingPathComponent("base-model.safetensors").path
        let vae = scratch.appendingPathComponent("base-vae.safetensors").path
        let errors = inSession(["m = transfusion(dim=8, layers=1, heads=2, image=8, patch=4)",
                                "train(m, shapes(size=8), steps=1, batch=1, length=64, checkpoint='\(model)')",
                                "vae(width=4).save('\(vae)')"], seconds: nil)
        let entries = [model, vae].map { (try? Safetensors.read(path: $0).entries) ?? [] }
        precondition(entries.allSatisfy { !$0.isEmpty }, "tfs-fuzz: the base checkpoints were not written: \(errors)")
        return entries.flatMap { $0 }
    }()

    // MARK: files

    /// A scratch folder of this process, emptied for each input (the readers take paths), and
    /// removed at exit. Made fresh by mkdtemp: a folder named after the process id could be a
    /// leftover of another user's run with the same id (the tests replay as root, then fuzz as
    /// `nobody`), where the base checkpoints cannot be written.
    private static let scratch: URL = {
        var template = Array(FileManager.default.temporaryDirectory.appendingPathComponent("tfs-fuzz-XXXXXX").path.utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("tfs-fuzz: cannot make a scratch folder: \(String(cString: strerror(errno)))") }
        let url = URL(fileURLWithPath: String(cString: made), isDirectory: true)
        scratchPath = url.path
        atexit { if let path = Self.scratchPath { try? FileManager.default.removeItem(atPath: path) } }
        return url
    }()
    nonisolated(unsafe) private static var scratchPath: String?

    /// A plain write: FileManager's atomic one syncs, twenty times slower than the readers.
    private static func write(_ bytes: Data, to path: String) -> Bool {
        guard let file = fopen(path, "wb") else { return false }
        defer { fclose(file) }
        return bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) } == bytes.count
    }

    private static func safetensors(_ bytes: Data) {
        let path = scratch.appendingPathComponent("input.safetensors").path
        guard write(bytes, to: path) else { return }
        guard let file = try? Safetensors.read(path: path) else { return }
        for entry in file.entries { _ = entry.tensorData }
    }

    /// A 4×4 PNG beside the metadata, so lines naming "a.png" reach the image path.
    private static let tinyPNG: Data = {
        var image = RGBImage(width: 4, height: 4)
        for i in image.pixels.indices { image.pixels[i] = UInt8(i * 5 % 256) }
        return image.png
    }()

    private static func jsonl(_ bytes: Data) {
        let folder = scratch.appendingPathComponent("folder", isDirectory: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        _ = write(tinyPNG, to: folder.appendingPathComponent("a.png").path)
        let metadata = folder.appendingPathComponent(ImageFolder.metadataFile).path
        guard write(bytes, to: metadata) else { return }
        _ = try? ImageFolder.load(folder.path, size: 2) { url in
            let image = try PNGDecoder.decode(contentsOf: url)
            return (image.width, image.height, image.rgb)
        }
        let corpus = scratch.appendingPathComponent("corpus.jsonl").path
        guard write(bytes, to: corpus) else { return }
        _ = try? TextCorpus.load(corpus)
    }
}

/// Stops a script that runs past its time (a builtin's own loop that the step budget does not
/// see) the way Ctrl-C does: by raising the interpreter's interrupt flag.
final class Watchdog: @unchecked Sendable {
    private let flag: InterruptFlag
    private let lock = NSLock()
    private var deadline: Date?

    init(flag: InterruptFlag) {
        self.flag = flag
        let thread = Thread { [unowned self] in
            while true {
                usleep(5_000)
                lock.lock()
                if let d = deadline, Date() > d { flag.raise() }
                lock.unlock()
            }
        }
        thread.start()
    }

    func arm(seconds: Double) { lock.lock(); deadline = Date().addingTimeInterval(seconds); lock.unlock() }
    func disarm() { lock.lock(); deadline = nil; lock.unlock() }
}
