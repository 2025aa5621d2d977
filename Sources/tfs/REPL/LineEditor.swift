#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import CReadline
import Script
import Foundation
import Script

/// What reading one line gave.
enum LineInput: Equatable {
    case line(String)
    /// Ctrl-C at the prompt: the line (and any open multi-line entry) is dropped.
    case interrupted
    /// Ctrl-D on an empty line, or the end of piped input.
    case endOfInput
}

/// Where the REPL's lines come from.
protocol LineSource: AnyObject {
    /// Reads one line. `prompt` is shown only by interactive sources.
    func read(prompt: String) -> LineInput
    /// Records a finished entry (a whole cell, its lines joined by newlines) in the history.
    func remember(_ entry: String)
    func close()
}

/// Lines from a pipe or file: no prompt, no editing, no history.
final class PlainLineSource: LineSource {
    func read(prompt: String) -> LineInput {
        guard let line = Swift.readLine(strippingNewline: true) else { return .endOfInput }
        return .line(line)
    }
    func remember(_ entry: String) {}
    func close() {}
}

/// GNU readline in its callback ("alternate") interface, so the wait for a key can also watch
/// the Ctrl-C self-pipe: Ctrl-C at the prompt clears the line and shows a fresh prompt, and
/// readline never installs signal handlers of its own.
///
/// History persists in `historyPath`: one entry per cell, a multi-line cell kept whole (each
/// entry follows a `#<seconds>` timestamp line, as bash's `lithist` writes them), appended as
/// entered; the up arrow recalls a whole cell. Tab completes through `completer` (see
/// `Completion`).
final class ReadlineLineSource: LineSource {
    let historyPath: String?
    private var lastRemembered: String?

    /// Lines longer than this many history entries are dropped from the file on exit.
    static let historyLimit: Int32 = 5000

    init(historyPath: String?, completer: @escaping Completion.Provider) {
        self.historyPath = historyPath
        rl_catch_signals = 0
        rl_catch_sigwinch = 1
        rl_readline_name = UnsafePointer(strdup("tfs"))
        Completion.install(completer)
        using_history()
        // Timestamp lines mark where an entry starts, so a multi-line cell reads back as one.
        // (`#` marks them; readline's default, none, writes no timestamp at all).
        history_comment_char = CChar(UInt8(ascii: "#"))
        history_write_timestamps = 1
        history_multiline_entries = 1
        if let historyPath {
            if !FileManager.default.fileExists(atPath: historyPath) {
                let url = URL(fileURLWithPath: historyPath)
                try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(),
                                                         withIntermediateDirectories: true)
                _ = FileManager.default.createFile(atPath: historyPath, contents: nil,
                                               attributes: [.posixPermissions: 0o600])
            }
            read_history(historyPath)
        }
        Interrupts.install()
    }

    // The line handed over by readline's callback (a C function: state lives in statics).
    nonisolated(unsafe) private static var finished = false
    nonisolated(unsafe) private static var received: UnsafeMutablePointer<CChar>? = nil

    private static let lineHandler: @convention(c) (UnsafeMutablePointer<CChar>?) -> Void = { line in
        ReadlineLineSource.finished = true
        ReadlineLineSource.received = line
        // Removing the handler here stops readline from redisplaying the prompt at once.
        rl_callback_handler_remove()
    }

    func read(prompt: String) -> LineInput {
        fflush(stdout)
        Self.finished = false
        Self.received = nil
        rl_callback_handler_install(prompt, Self.lineHandler)
        var fds = [pollfd(fd: fileno(rl_instream ?? stdin), events: Int16(POLLIN), revents: 0),
                   pollfd(fd: Interrupts.readFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0; fds[1].revents = 0
            let n = poll(&fds, 2, -1)
            if n < 0 && errno != EINTR { rl_callback_handler_remove(); return .endOfInput }
            if fds[1].revents & Int16(POLLIN) != 0 && Interrupts.drain() {
                // What Python's readline module does on SIGINT in the callback interface.
                rl_free_line_state()
                rl_callback_sigcleanup()
                rl_cleanup_after_signal()
                rl_callback_handler_remove()
                fputs("^C\n", stdout)
                fflush(stdout)
                return .interrupted
            }
            if n > 0 && fds[0].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 {
                rl_callback_read_char()
                if Self.finished {
                    guard let pointer = Self.received else { return .endOfInput }  // readline wrote the newline
                    let line = String(cString: pointer)
                    free(pointer)
                    return .line(line)
                }
            }
        }
    }

    func remember(_ entry: String) {
        guard !InputScanner.isBlank(entry), entry != lastRemembered else { return }
        lastRemembered = entry
        add_history(entry)
        if let historyPath { append_history(1, historyPath) }
    }

    func close() {
        if let historyPath { history_truncate_file(historyPath, Self.historyLimit) }
    }
}

/// Tab completion: readline asks `rl_attempted_completion_function`, which hands the line up to
/// the cursor to the session and turns its candidates into readline matches.
enum Completion {
    /// (text of the line up to the cursor, the word being completed) -> candidates.
    typealias Provider = (_ lineBeforeCursor: String, _ word: String) -> [String]

    nonisolated(unsafe) private static var provider: Provider?
    nonisolated(unsafe) private static var matches: [String] = []
    nonisolated(unsafe) private static var next = 0

    /// Characters that end a word for completion (the session's).
    static let wordBreaks = Session.completionWordBreaks

    static func install(_ provider: @escaping Provider) {
        self.provider = provider
        rl_completer_word_break_characters = UnsafePointer(strdup(wordBreaks))
        rl_attempted_completion_function = attempt
    }

    private static let attempt: @convention(c) (UnsafePointer<CChar>?, Int32, Int32)
        -> UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = { text, start, end in
        rl_attempted_completion_over = 1      // never fall back to file names
        rl_completion_append_character = 0    // `print` then `(`; `steps=` then the value
        let word = text.map { String(cString: $0) } ?? ""
        let bytes = rl_line_buffer.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self),
                                                                   count: Int(rl_end))) } ?? []
        let before = String(decoding: bytes.prefix(max(0, Int(rl_point))), as: UTF8.self)
        // Tab at the start of a line (or after only spaces) indents, as in Python's REPL.
        if InputScanner.isBlank(before) {
            rl_insert_text("    ")
            return nil
        }
        matches = candidates(Completion.provider?(before, word) ?? [], word: word)
        next = 0
        guard !matches.isEmpty else { return nil }
        return rl_completion_matches(text, generator)
    }

    private static let generator: @convention(c) (UnsafePointer<CChar>?, Int32) -> UnsafeMutablePointer<CChar>? = { _, state in
        if state == 0 { Completion.next = 0 }
        guard Completion.next < Completion.matches.count else { return nil }
        defer { Completion.next += 1 }
        return strdup(Completion.matches[Completion.next])
    }

    /// The session's candidates as replacements for `word`: a bare member name (`with`)
    /// completing `model.wi` becomes `model.with`; anything not extending `word` is dropped.
    static func candidates(_ raw: [String], word: String) -> [String] {
        var seen = Set<String>(), out: [String] = []
        let base: String
        if let dot = word.lastIndex(of: ".") { base = String(word[...dot]) } else { base = "" }
        for candidate in raw {
            var full = candidate
            if !full.hasPrefix(word), !base.isEmpty, (base + candidate).hasPrefix(word) { full = base + candidate }
            guard full.hasPrefix(word), seen.insert(full).inserted else { continue }
            out.append(full)
        }
        return out
    }
}
