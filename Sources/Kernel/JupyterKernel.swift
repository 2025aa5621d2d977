#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Script

/// Where interrupts arrive besides `interrupt_request`: a descriptor that becomes readable on
/// SIGINT (the front end's self-pipe) and the call that empties it (true if a signal came).
public struct InterruptSource {
    public let fd: Int32
    public let drain: () -> Bool
    public init(fd: Int32, drain: @escaping () -> Bool) { self.fd = fd; self.drain = drain }
}

/// A Jupyter kernel for tfs: one `Session` served over the five ZeroMQ sockets of the
/// messaging protocol (5.3). One thread polls shell, control, the captured standard streams
/// and the interrupt pipe; a cell runs on a worker thread meanwhile, so `interrupt_request`
/// and `shutdown_request` on control are answered while a `train` runs. The heartbeat
/// echoes on its own thread. Messages with a wrong signature are refused (logged, never
/// answered); no request, however malformed, ends the kernel.
public final class JupyterKernel {
    let connection: ConnectionInfo
    let signer: MessageSigner
    let sessionID = UUID().uuidString.lowercased()
    let session: Session
    let interrupts: InterruptSource?
    /// The tfs version, reported by `kernel_info`.
    let version: String
    private let context = ZMQContext()
    let shell: ZMQSocket, control: ZMQSocket, stdinSocket: ZMQSocket, iopub: ZMQSocket
    private let heartbeat: ZMQSocket
    /// Signalled when the heartbeat thread has closed its socket (at shutdown).
    private let heartbeatDone = DispatchSemaphore(value: 0)
    /// The captured stdout and stderr (nil if a pipe could not be made).
    var captures: [StreamCapture] = []
    /// `In [n]`: the count of the last cell run with history.
    var executionCount = 0
    /// The cell running now, if any.
    var running: RunningCell?
    /// Set by `shutdown_request`: the loop ends once no cell runs.
    var shutdown: (restart: Bool, request: JupyterMessage)?

    public init(connection: ConnectionInfo, version: String, session: Session,
                interrupts: InterruptSource? = nil) throws {
        self.connection = connection
        self.version = version
        self.signer = MessageSigner(key: Data(connection.key.utf8))
        self.session = session
        self.interrupts = interrupts
        do {
            shell = try ZMQSocket(context, .router, bind: connection.address(connection.shellPort))
            control = try ZMQSocket(context, .router, bind: connection.address(connection.controlPort))
            stdinSocket = try ZMQSocket(context, .router, bind: connection.address(connection.stdinPort))
            iopub = try ZMQSocket(context, .publisher, bind: connection.address(connection.iopubPort))
            heartbeat = try ZMQSocket(context, .reply, bind: connection.address(connection.hbPort))
        } catch {
            throw KernelError("cannot open the kernel's sockets: \(error)")
        }
    }

    /// Serves until `shutdown_request`; returns the exit status (0).
    public func run() -> Int32 {
        startHeartbeat()
        captures = [StreamCapture(fd: STDOUT_FILENO, name: "stdout"), StreamCapture(fd: STDERR_FILENO, name: "stderr")]
            .compactMap { $0 }
        log("tfs kernel: ready (\(connection.transport) \(connection.ip), shell port \(connection.shellPort))")
        while shutdown == nil || running != nil {
            serveOnce()
        }
        if let shutdown { publish("status", ["execution_state": "idle"], parent: shutdown.request) }
        flushAndClose()
        return 0
    }

    /// Delivers what is still queued (the shutdown reply, the last status) before the process
    /// ends: sockets closed with a linger, the heartbeat woken and closed, the context terminated.
    private func flushAndClose() {
        for socket in [shell, control, stdinSocket, iopub] { socket.close(linger: 2000) }
        context.shutdown()
        if heartbeatDone.wait(timeout: .now() + 2) == .success { context.terminate() }
    }

    /// One wait and what it brought: control first (an interrupt must not wait behind
    /// anything), then captured output, the interrupt pipe, the running cell's end, and a
    /// shell request only while no cell runs (the protocol runs requests in order).
    private func serveOnce() {
        let sockets = running == nil && shutdown == nil ? [control, shell] : [control]
        var fds = captures.map(\.readFD)
        if let interrupts { fds.append(interrupts.fd) }
        if let running { fds.append(running.doneFD) }
        let ready = poll(sockets: sockets, fds: fds)
        if ready[0] { receive(on: control) }
        let captureReady = ready[sockets.count..<(sockets.count + captures.count)]
        if captureReady.contains(true) { forwardCapturedOutput() }
        var next = sockets.count + captures.count
        if let interrupts {
            if ready[next], interrupts.drain(), running != nil { session.interrupt() }
            next += 1
        }
        if running != nil, ready[next] { finishCell() }
        if sockets.count > 1, ready[1], running == nil, shutdown == nil { receive(on: shell) }
    }

    /// Reads one message from `socket` and handles it; a bad one is logged and dropped.
    private func receive(on socket: ZMQSocket) {
        if let message = read(socket) { handle(message, on: socket) }
    }

    /// Reads one message from `socket`; nil (logged) if it is refused.
    func read(_ socket: ZMQSocket) -> JupyterMessage? {
        guard let frames = socket.receive() else { return nil }
        do {
            return try JupyterMessage(frames: frames, signer: signer)
        } catch {
            log("tfs kernel: refused \(error)")
            return nil
        }
    }

    // MARK: sending

    /// Sends a reply on the socket the request came from.
    func reply(_ request: JupyterMessage, on socket: ZMQSocket, type: String, _ content: [String: Any]) {
        let message = JupyterMessage(type: type, session: sessionID, content: content, parent: request)
        socket.send(message.frames(signer: signer))
    }

    /// Broadcasts on IOPub.
    func publish(_ type: String, _ content: [String: Any], parent: JupyterMessage?) {
        let message = JupyterMessage(type: type, session: sessionID, content: content, parent: parent)
        iopub.send(message.frames(signer: signer, topic: "kernel.\(sessionID).\(type)"))
    }

    /// A line for the terminal Jupyter runs the kernel in (never the notebook).
    func log(_ line: String) {
        if let stderr = captures.first(where: { $0.name == "stderr" }) {
            stderr.writeOriginal(line + "\n")
        } else {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    // MARK: heartbeat

    private func startHeartbeat() {
        let socket = heartbeat, done = heartbeatDone
        let thread = Thread {
            while let frames = socket.receive() { socket.send(frames) }
            socket.close(linger: 0)   // the context is shutting down
            done.signal()
        }
        thread.name = "tfs-kernel-heartbeat"
        thread.start()
    }
}
