#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// How the REPL shows a picture in the terminal, besides printing the path of its file: with
/// the kitty graphics protocol, iTerm2's inline images, sixel, Unicode block art, or not at all.
///
/// `--pictures MODE` or `TFS_PICTURES=MODE` forces one (`auto` detects). Detection: no
/// pictures unless standard output is a terminal (a piped REPL prints paths only) or with
/// TERM=dumb; then the environment (kitty, Ghostty: kitty; iTerm2, WezTerm: iTerm2; foot,
/// mlterm: sixel); then the terminal is asked — a kitty graphics query and Primary Device
/// Attributes (whose attribute 4 is sixel), which every terminal answers — and a terminal that
/// claims neither gets block art.
enum PictureMode: String, CaseIterable {
    case kitty, iterm2, sixel, blocks, off

    /// The mode a setting names: a mode, or nil for `auto` (detect). Throws for anything else.
    static func setting(_ text: String) throws -> PictureMode? {
        if text == "auto" || text.isEmpty { return nil }
        guard let mode = PictureMode(rawValue: text) else {
            throw PictureSettingError(value: text)
        }
        return mode
    }

    struct PictureSettingError: Error, CustomStringConvertible {
        let value: String
        var description: String {
            "pictures mode '\(value)' is not one of auto, " + PictureMode.allCases.map(\.rawValue).joined(separator: ", ")
        }
    }

    /// The mode for this terminal: the forced one, else what the environment says, else what
    /// the terminal answers.
    static func detect(forced: PictureMode?, environment env: [String: String] = ProcessInfo.processInfo.environment) -> PictureMode {
        if let forced { return forced }
        guard isatty(STDOUT_FILENO) == 1, isatty(STDIN_FILENO) == 1, env["TERM"] != "dumb" else { return .off }
        if let mode = fromEnvironment(env) { return mode }
        return askTerminal() ?? .blocks
    }

    static func fromEnvironment(_ env: [String: String]) -> PictureMode? {
        let term = env["TERM"] ?? "", program = env["TERM_PROGRAM"] ?? ""
        if env["TMUX"] != nil || term.hasPrefix("screen") || term.hasPrefix("tmux") { return .blocks }
        if env["KITTY_WINDOW_ID"] != nil || term.contains("kitty") || term.contains("ghostty") || program == "ghostty" { return .kitty }
        if program == "iTerm.app" || env["LC_TERMINAL"] == "iTerm2" || program == "WezTerm" { return .iterm2 }
        if term.hasPrefix("foot") || term.hasPrefix("mlterm") || program == "mlterm" { return .sixel }
        return nil
    }

    /// Sends a kitty graphics query and Primary Device Attributes, and reads the answers up to
    /// the device attributes' (at most a second: a terminal that answers nothing gets blocks).
    static func askTerminal() -> PictureMode? {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { return nil }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(STDIN_FILENO, TCSANOW, &raw)
        defer { tcsetattr(STDIN_FILENO, TCSANOW, &saved) }
        fflush(stdout)   // what was printed comes before the query
        let query = "\u{1B}_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\u{1B}\\\u{1B}[c"
        _ = query.withCString { write(STDOUT_FILENO, $0, strlen($0)) }
        var answer = ""
        let deadline = Date().addingTimeInterval(1)
        while Date() < deadline {
            var fds = [pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000))) > 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = read(STDIN_FILENO, &buffer, buffer.count)
            guard n > 0 else { break }
            answer += String(decoding: buffer[0..<n], as: UTF8.self)
            if let mode = mode(answeredWith: answer) { return mode }
        }
        return nil
    }

    /// The mode an answer to the queries means, once it holds the device attributes.
    static func mode(answeredWith answer: String) -> PictureMode? {
        guard let range = answer.range(of: "\u{1B}\\[\\?[0-9;]*c", options: .regularExpression) else { return nil }
        if answer.contains("\u{1B}_Gi=31;OK") { return .kitty }
        let attributes = answer[range].dropFirst(3).dropLast().split(separator: ";")
        return attributes.contains("4") ? .sixel : .blocks
    }
}
