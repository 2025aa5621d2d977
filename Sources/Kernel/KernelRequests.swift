import Foundation
import Script

/// The requests a kernel answers besides running code: information, completion, inspection,
/// input completeness, comms, history, interrupt and shutdown.
extension JupyterKernel {
    var languageInfo: [String: Any] { [
        "name": "tfs",
        "version": version,
        "mimetype": "text/x-tfs",
        "file_extension": ".tfs",
        // The syntax reads as Python, so borrow its highlighting.
        "pygments_lexer": "python",
        "codemirror_mode": "python",
    ] }

    /// Dispatches a request that passed the signature check. Every shell request is framed by
    /// `busy` and `idle` on IOPub (an execution's `idle` comes when the cell ends).
    func handle(_ request: JupyterMessage, on socket: ZMQSocket) {
        let type = request.type
        if type == "execute_request" && socket === shell {
            startCell(request)
            return
        }
        publish("status", ["execution_state": "busy"], parent: request)
        defer { publish("status", ["execution_state": "idle"], parent: request) }
        let content = request.content
        switch type {
        case "kernel_info_request":
            reply(request, on: socket, type: "kernel_info_reply", [
                "status": "ok",
                "protocol_version": JupyterMessage.protocolVersion,
                "implementation": "tfs",
                "implementation_version": version,
                "language_info": languageInfo,
                "banner": "tfs — Transfusion experiments on the CPU (a scripting language over a lazy tensor graph)",
                "help_links": [Any](),
            ])
        case "complete_request":
            let (code, cursor) = codeAndCursor(content)
            let before = String(String.UnicodeScalarView(code.unicodeScalars.prefix(cursor)))
            let word = JupyterKernel.trailingWord(before)
            reply(request, on: socket, type: "complete_reply", [
                "status": "ok", "matches": session.completions(for: before),
                "cursor_start": cursor - word.unicodeScalars.count, "cursor_end": cursor, "metadata": [String: Any](),
            ])
        case "inspect_request":
            let (code, cursor) = codeAndCursor(content)
            let name = JupyterKernel.inspectedName(code, cursor: cursor)
            let text = name.flatMap { session.help($0) }
            reply(request, on: socket, type: "inspect_reply", [
                "status": "ok", "found": text != nil,
                "data": text.map { ["text/plain": $0] } ?? [String: Any](), "metadata": [String: Any](),
            ])
        case "is_complete_request":
            reply(request, on: socket, type: "is_complete_reply", JupyterKernel.completeness(content["code"] as? String ?? ""))
        case "comm_info_request":
            reply(request, on: socket, type: "comm_info_reply", ["status": "ok", "comms": [String: Any]()])
        case "history_request":
            reply(request, on: socket, type: "history_reply", ["status": "ok", "history": [Any]()])
        case "interrupt_request":
            if running != nil { session.interrupt() }
            reply(request, on: socket, type: "interrupt_reply", ["status": "ok"])
        case "shutdown_request":
            let restart = content["restart"] as? Bool ?? false
            reply(request, on: socket, type: "shutdown_reply", ["status": "ok", "restart": restart])
            shutdown = (restart, request)
            if running != nil { session.interrupt() }   // a training run keeps its checkpoint
        case "execute_request":   // on control: not a place to run code
            reply(request, on: socket, type: "execute_reply", [
                "status": "error", "execution_count": executionCount, "ename": "KernelError",
                "evalue": "execute_request belongs on the shell channel", "traceback": [String](),
            ])
        case "comm_open", "comm_msg", "comm_close":
            break   // tfs has no comms; the protocol lets a kernel ignore them
        default:
            log("tfs kernel: no handler for '\(type)'")
        }
    }

    /// The request's code and cursor position (in Unicode scalars), the cursor kept inside the code.
    private func codeAndCursor(_ content: [String: Any]) -> (String, Int) {
        let code = content["code"] as? String ?? ""
        let count = code.unicodeScalars.count
        let cursor = min(max(content["cursor_pos"] as? Int ?? count, 0), count)
        return (code, cursor)
    }

    static func isWordCharacter(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" || c == "." }

    /// The dotted name ending the text (what completion replaces).
    static func trailingWord(_ text: String) -> String {
        String(text.reversed().prefix(while: isWordCharacter).reversed())
    }

    /// The name the cursor is on (`soft|max` → softmax), else the function whose call's
    /// parentheses the cursor is in (`softmax(x, |` → softmax).
    static func inspectedName(_ code: String, cursor: Int) -> String? {
        let scalars = Array(code.unicodeScalars)
        let before = String(String.UnicodeScalarView(scalars[..<cursor]))
        let after = String(String.UnicodeScalarView(scalars[cursor...]))
        let word = trailingWord(before) + String(after.prefix(while: isWordCharacter))
        let trimmed = word.trimmingCharacters(in: CharacterSet(charactersIn: "."))
        if !trimmed.isEmpty { return trimmed }
        var depth = 0
        for (i, c) in before.enumerated().reversed() {
            if c == ")" { depth += 1 }
            if c == "(" {
                if depth == 0 {
                    let name = trailingWord(String(before.prefix(i)))
                    return name.isEmpty ? nil : name
                }
                depth -= 1
            }
        }
        return nil
    }

    /// `is_complete_reply`: incomplete while a bracket or string is open, a line ends with
    /// `\`, or a compound statement has begun and no blank line has ended it (as the REPL reads).
    static func completeness(_ code: String) -> [String: Any] {
        let state = InputScanner.scan(code)
        let lines = code.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let last = lines.last ?? ""
        let endedByBlankLine = lines.count > 1 && InputScanner.isBlank(last)
        if state.isOpen || (state.opensBlock && !endedByBlankLine) {
            let lastCode = lines.last(where: { !InputScanner.isBlank($0) }) ?? ""
            var indent = String(lastCode.prefix { $0 == " " || $0 == "\t" })
            if lastCode.trimmingCharacters(in: .whitespaces).hasSuffix(":") { indent += "    " }
            return ["status": "incomplete", "indent": indent]
        }
        return ["status": "complete"]
    }
}
