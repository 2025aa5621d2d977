import Foundation
import Script
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
    /// The PNG decoder.
    case png
    /// JSON Lines: an image folder's metadata.jsonl and a .jsonl text corpus.
    case jsonl

    func run(_ bytes: Data) {
        switch self {
        case .frontend: Self.frontend(bytes)
        case .script: Self.script(bytes)
        case .safetensors: Self.safetensors(bytes)
        case .png: _ = try? PNGDecoder.decode(bytes)
        case .jsonl: Self.jsonl(bytes)
        }
    }

    // MARK: script

    private static func frontend(_ bytes: Data) {
        _ = Session().check(source: String(decoding: bytes, as: UTF8.self), file: "fuzz.tfs")
    }

    /// One session for the whole run (reset every input), as the REPL keeps one.
    nonisolated(unsafe) private static let session: Session = {
        let s = Session()
        s.interpreter.stepLimit = 20_000
        return s
    }()
    nonisolated(unsafe) private static var watchdog: Watchdog?

    private static func script(_ bytes: Data) {
        let watchdog = Self.watchdog ?? Watchdog(flag: session.interpreter.interruptFlag)
        Self.watchdog = watchdog
        session.reset()
        watchdog.arm(seconds: 0.5)
        _ = session.run(source: String(decoding: bytes, as: UTF8.self), file: "fuzz.tfs")
        watchdog.disarm()
    }

    // MARK: files

    /// A scratch folder of this process, emptied for each input (the readers take paths).
    private static let scratch: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tfs-fuzz-\(getpid())", isDirectory: true)
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

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
