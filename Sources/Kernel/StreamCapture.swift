#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Takes over one of the process's standard streams (1 or 2) with a pipe, so what the
/// interpreter and the libraries write there (training progress, warnings) reaches the
/// notebook as `stream` messages. The kernel polls `readFD` next to its sockets.
final class StreamCapture {
    /// "stdout" or "stderr": the stream's name in Jupyter messages.
    let name: String
    let readFD: Int32
    /// The stream as it was before the capture (the kernel's own log goes there).
    let originalFD: Int32
    private var partial = Data()

    init?(fd: Int32, name: String) {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return nil }
        originalFD = dup(fd)
        guard originalFD >= 0, dup2(fds[1], fd) >= 0 else { return nil }
        close(fds[1])
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(originalFD, F_SETFD, FD_CLOEXEC)
        readFD = fds[0]
        self.name = name
    }

    /// The whole lines written since the last call (without reading past what is there);
    /// with `flush`, also a last line without its line break.
    func take(flush: Bool = false) -> [String] {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(readFD, &buffer, buffer.count)
            guard n > 0 else { break }
            partial.append(contentsOf: buffer[0..<n])
        }
        var lines: [String] = []
        while let newline = partial.firstIndex(of: UInt8(ascii: "\n")) {
            lines.append(String(decoding: partial[partial.startIndex...newline], as: UTF8.self))
            partial = Data(partial[(newline + 1)...])
        }
        if flush && !partial.isEmpty {
            lines.append(String(decoding: partial, as: UTF8.self))
            partial = Data()
        }
        return lines
    }

    /// Writes to the stream as it was before the capture (the terminal Jupyter runs in).
    func writeOriginal(_ text: String) {
        let data = Array(text.utf8)
        _ = data.withUnsafeBytes { write(originalFD, $0.baseAddress, $0.count) }
    }
}
