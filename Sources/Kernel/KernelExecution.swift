#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RichOutput
import Script
import Visual

/// A cell running on its worker thread; `doneFD` becomes readable when it ends.
final class RunningCell: @unchecked Sendable {
    let request: JupyterMessage
    let silent: Bool
    let number: Int
    let doneFD: Int32
    private let writeFD: Int32
    /// Written by the worker before it signals the pipe; read by the kernel's thread after.
    var result: CellResult?
    /// The display that shows training progress (updated in place), once there is one.
    var progressDisplay: String?

    init?(request: JupyterMessage, silent: Bool, number: Int) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        self.request = request; self.silent = silent; self.number = number
        doneFD = fds[0]; writeFD = fds[1]
    }

    func start(_ work: @escaping () -> CellResult) {
        let thread = Thread { [self] in
            result = work()
            var byte: UInt8 = 1
            _ = write(writeFD, &byte, 1)
        }
        thread.name = "tfs-kernel-cell"
        thread.start()
    }

    deinit { close(doneFD); close(writeFD) }
}

/// Running code: `execute_request` starts a cell on a worker thread and the kernel keeps
/// serving control meanwhile; when the cell ends its outputs go out on IOPub (text as
/// `stream`, pictures and tables as `display_data` with every representation of their
/// `MimeBundle`, the value as `execute_result`, a failure as `error`) and the reply follows.
extension JupyterKernel {
    func startCell(_ request: JupyterMessage) {
        let content = request.content
        let code = content["code"] as? String ?? ""
        let silent = content["silent"] as? Bool ?? false
        let storeHistory = (content["store_history"] as? Bool ?? true) && !silent
        publish("status", ["execution_state": "busy"], parent: request)
        if storeHistory { executionCount += 1 }
        let number = executionCount
        if !silent { publish("execute_input", ["code": code, "execution_count": number], parent: request) }
        guard let cell = RunningCell(request: request, silent: silent, number: number) else {
            let error = ["status": "error", "execution_count": number, "ename": "KernelError",
                         "evalue": "cannot start the cell (no pipe)", "traceback": [String]()] as [String: Any]
            reply(request, on: shell, type: "execute_reply", error)
            publish("status", ["execution_state": "idle"], parent: request)
            return
        }
        running = cell
        let session = self.session
        cell.start { session.run(source: code, file: "In[\(number)]", line: 1) }
    }

    /// Sends what the finished cell produced, its reply, and `idle`.
    func finishCell() {
        guard let cell = running, let result = cell.result else { return }
        running = nil
        fflush(stdout)
        forwardCapturedOutput(flush: true, cell: cell)
        let request = cell.request
        var failure: NotebookOutput?
        for output in result.outputs {
            let form = NotebookOutput(output, failure: result.failure)
            if case .error = form { failure = form; continue }
            guard !cell.silent else { continue }
            switch form {
            case .stream(let text):
                publish("stream", ["name": "stdout", "text": text.hasSuffix("\n") ? text : text + "\n"], parent: request)
            case .display(let bundle):
                publish("display_data", ["data": bundle.jupyterData, "metadata": [String: Any](), "transient": [String: Any]()],
                        parent: request)
            default: break
            }
        }
        if result.failure == .interrupted && failure == nil {
            failure = .error(name: "KeyboardInterrupt", message: "interrupted", traceback: ["interrupted"])
        }
        if let failure, case .error(let name, let message, let traceback) = failure {
            // What waits now is taken before the reply goes out: a cell sent after it runs.
            let waiting = request.content["stop_on_error"] as? Bool ?? true ? waitingRequests() : []
            let content: [String: Any] = ["ename": name, "evalue": message, "traceback": traceback]
            publish("error", content, parent: request)
            reply(request, on: shell, type: "execute_reply",
                  content.merging(["status": "error", "execution_count": cell.number]) { a, _ in a })
            publish("status", ["execution_state": "idle"], parent: request)
            abort(waiting)
            return
        } else {
            if !cell.silent, let bundle = session.valueBundle(result) {
                publish("execute_result", ["execution_count": cell.number, "data": bundle.jupyterData,
                                           "metadata": [String: Any]()], parent: request)
            }
            reply(request, on: shell, type: "execute_reply", [
                "status": "ok", "execution_count": cell.number,
                "user_expressions": [String: Any](), "payload": [Any](),
            ])
        }
        publish("status", ["execution_state": "idle"], parent: request)
    }

    /// The requests waiting on shell now (read, not yet answered).
    private func waitingRequests() -> [JupyterMessage] {
        var waiting: [JupyterMessage] = []
        while poll(sockets: [shell], fds: [], milliseconds: 0)[0] {
            if let request = read(shell) { waiting.append(request) }
        }
        return waiting
    }

    /// After a failed cell whose request asked `stop_on_error` (the default), the cells that
    /// were waiting behind it are not run: each gets an `aborted` reply (as "Run All" expects:
    /// the cells after an error stay unrun). Other waiting requests are answered as usual.
    private func abort(_ waiting: [JupyterMessage]) {
        for request in waiting {
            guard request.type == "execute_request" else { handle(request, on: shell); continue }
            publish("status", ["execution_state": "busy"], parent: request)
            reply(request, on: shell, type: "execute_reply", ["status": "aborted", "execution_count": executionCount])
            publish("status", ["execution_state": "idle"], parent: request)
        }
    }

    /// Sends what was written to stdout and stderr as `stream` messages to the running cell
    /// (or, between cells, to no parent). Training progress lines (`step N/M ...`) go to one
    /// display per cell, updated in place.
    func forwardCapturedOutput(flush: Bool = false, cell: RunningCell? = nil) {
        let cell = cell ?? running
        for capture in captures {
            var text = ""
            for line in capture.take(flush: flush) {
                if capture.name == "stderr", let cell, JupyterKernel.isProgressLine(line) {
                    if !text.isEmpty { publish("stream", ["name": capture.name, "text": text], parent: cell.request); text = "" }
                    showProgress(line.trimmingCharacters(in: .newlines), cell: cell)
                } else {
                    text += line
                }
            }
            if !text.isEmpty { publish("stream", ["name": capture.name, "text": text], parent: cell?.request) }
        }
    }

    /// A line of `train`'s or `train_vae`'s progress (their form when stderr is not a terminal).
    static func isProgressLine(_ line: String) -> Bool {
        line.range(of: #"^([a-z]+ )?step +[0-9]+/[0-9]+ "#, options: .regularExpression) != nil
    }

    private func showProgress(_ line: String, cell: RunningCell) {
        let content: (String) -> [String: Any] = { id in
            ["data": ["text/plain": line], "metadata": [String: Any](), "transient": ["display_id": id]]
        }
        if let id = cell.progressDisplay {
            publish("update_display_data", content(id), parent: cell.request)
        } else {
            let id = "tfs-progress-\(UUID().uuidString.lowercased())"
            cell.progressDisplay = id
            publish("display_data", content(id), parent: cell.request)
        }
    }
}
