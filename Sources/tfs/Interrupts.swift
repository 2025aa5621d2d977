#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Ctrl-C handling shared by the REPL and the script commands.
///
/// The SIGINT handler does the one async-signal-safe thing: it writes a byte to a pipe (the
/// "self-pipe trick"). Whoever is waiting — the REPL's line editor at the prompt, or
/// `Evaluation.run` while a cell runs on its worker thread — polls that pipe next to its own
/// file descriptor and reacts outside signal context (clearing the line, or calling
/// `Session.interrupt()`, which the interpreter checks between steps).
enum Interrupts {
    nonisolated(unsafe) static var readFD: Int32 = -1
    nonisolated(unsafe) static var writeFD: Int32 = -1
    nonisolated(unsafe) private static var installed = false
    /// Whether a SIGTERM arrived (`tfs run` then runs no further cell).
    nonisolated(unsafe) private(set) static var terminated = false

    /// Makes SIGTERM interrupt like Ctrl-C, remembered for the rest of the process (`tfs run`:
    /// a training run saves its checkpoint, then the command exits with 143).
    static func installTermination() {
        install()
        handle(SIGTERM)
    }

    /// Installs the SIGINT handler (once). Without SA_RESTART, so a blocking `poll` wakes.
    static func install() {
        guard !installed else { return }
        installed = true
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
        readFD = fds[0]; writeFD = fds[1]
        sigintWriteFD = fds[1]
        handle(SIGINT)
    }

    /// Routes `signal` to the self-pipe (its number is the byte written), unblocked: a parent (a
    /// test runner, a job-control shell) may hand it down blocked.
    private static func handle(_ signal: Int32) {
        var action = sigaction()
        #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = signalHandler
        #else
        action.__sigaction_u.__sa_handler = signalHandler
        #endif
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(signal, &action, nil)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, signal)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// Empties the pipe; true if at least one Ctrl-C (or SIGTERM) had arrived.
    @discardableResult
    static func drain() -> Bool {
        guard readFD >= 0 else { return false }
        var buffer = [UInt8](repeating: 0, count: 64)
        var any = false
        while true {
            let n = read(readFD, &buffer, buffer.count)
            guard n > 0 else { break }
            any = true
            if buffer[0..<n].contains(UInt8(SIGTERM)) { terminated = true }
        }
        return any
    }
}

/// The write end of the self-pipe, as a plain global the C handler can reach.
nonisolated(unsafe) private var sigintWriteFD: Int32 = -1

/// Writes the signal's number (SIGINT or SIGTERM) to the pipe, so `drain` can tell them apart.
private let signalHandler: @convention(c) (Int32) -> Void = { signal in
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(sigintWriteFD, &byte, 1)
    errno = saved
}

/// Runs work (one cell) on a worker thread with a large stack while the calling thread waits
/// for it or for Ctrl-C; each Ctrl-C calls `onInterrupt` (the session's `interrupt()`).
enum Evaluation {
    /// The session runs cells on its own large-stack thread; this one only waits for it (or
    /// evaluates a lazy expression for `:graph`).
    static let stackSize = 16 << 20

    nonisolated(unsafe) private static var donePipe: [Int32] = []

    static func run<T>(_ work: @escaping () -> T, onInterrupt: @escaping () -> Void) -> T {
        Interrupts.install()
        if donePipe.isEmpty {
            var fds: [Int32] = [-1, -1]
            if pipe(&fds) != 0 { return work() }
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            donePipe = fds
        }
        Interrupts.drain()  // a Ctrl-C typed before this cell started is not for it
        let box = ResultBox<T>()
        let writeEnd = donePipe[1]
        let thread = Thread {
            box.value = work()
            var byte: UInt8 = 1
            _ = write(writeEnd, &byte, 1)
        }
        thread.stackSize = stackSize
        thread.start()
        var fds = [pollfd(fd: donePipe[0], events: Int16(POLLIN), revents: 0),
                   pollfd(fd: Interrupts.readFD, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0; fds[1].revents = 0
            let n = poll(&fds, nfds_t(Interrupts.readFD >= 0 ? 2 : 1), -1)
            if n < 0 { continue }  // EINTR: the byte is in the pipe; the next poll sees it
            if fds[1].revents & Int16(POLLIN) != 0, Interrupts.drain() { onInterrupt() }
            if fds[0].revents & Int16(POLLIN) != 0 {
                var byte: UInt8 = 0
                _ = read(donePipe[0], &byte, 1)
                break
            }
        }
        return box.value!
    }

    private final class ResultBox<T>: @unchecked Sendable { var value: T? }
}
