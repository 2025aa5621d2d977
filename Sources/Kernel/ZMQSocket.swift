import CZMQ
import Foundation

/// A ZeroMQ error: what was being done and libzmq's reason.
public struct ZMQError: Error, CustomStringConvertible {
    public let description: String
    init(_ action: String) { description = "\(action): \(String(cString: zmq_strerror(zmq_errno())))" }
}

/// One ZeroMQ context for the kernel's sockets. At shutdown it is ended in two steps:
/// `shutdown` wakes a receive blocked in another thread (the heartbeat's), and `terminate`,
/// once every socket is closed, waits for the messages still queued (each socket's linger).
final class ZMQContext: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    init() { handle = zmq_ctx_new() }
    func shutdown() { zmq_ctx_shutdown(handle) }
    func terminate() { while zmq_ctx_term(handle) != 0 && zmq_errno() == EINTR {} }
}

/// A ZeroMQ socket bound to one address, sending and receiving multipart messages (frames).
/// A socket is used by one thread at a time.
final class ZMQSocket: @unchecked Sendable {
    enum Kind { case router, publisher, reply
        var raw: Int32 { switch self { case .router: ZMQ_ROUTER; case .publisher: ZMQ_PUB; case .reply: ZMQ_REP } }
    }

    let handle: UnsafeMutableRawPointer
    private var closed = false

    init(_ context: ZMQContext, _ kind: Kind, bind address: String) throws {
        guard let socket = zmq_socket(context.handle, kind.raw) else { throw ZMQError("zmq_socket") }
        handle = socket
        var linger: Int32 = 0   // closing never waits for unsent messages
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        guard zmq_bind(handle, address) == 0 else {
            let error = ZMQError("bind \(address)")
            zmq_close(handle)
            throw error
        }
    }

    deinit { if !closed { zmq_close(handle) } }

    /// Closes the socket; its queued messages are still sent for up to `milliseconds`, as long
    /// as the context is then terminated (a process that just exits drops them).
    func close(linger milliseconds: Int32) {
        guard !closed else { return }
        var linger = milliseconds
        zmq_setsockopt(handle, ZMQ_LINGER, &linger, MemoryLayout<Int32>.size)
        zmq_close(handle); closed = true
    }

    /// Sends the frames as one message.
    func send(_ frames: [Data]) {
        for (i, frame) in frames.enumerated() {
            let flags = i + 1 < frames.count ? ZMQ_SNDMORE : 0
            _ = frame.withUnsafeBytes { zmq_send(handle, $0.baseAddress, frame.count, flags) }
        }
    }

    /// Receives one whole message (waiting for it; a signal does not end the wait); nil when
    /// the socket fails or the context ends.
    func receive() -> [Data]? {
        var frames: [Data] = []
        while true {
            var message = zmq_msg_t()
            zmq_msg_init(&message)
            defer { zmq_msg_close(&message) }
            guard zmq_msg_recv(&message, handle, 0) >= 0 else {
                if zmq_errno() == EINTR { continue }
                return nil
            }
            frames.append(Data(bytes: zmq_msg_data(&message), count: zmq_msg_size(&message)))
            if zmq_msg_more(&message) == 0 { return frames }
        }
    }
}

/// Waits until some of `sockets` has a message or some of `fds` is readable (at most
/// `milliseconds`, -1: as long as it takes); returns the readiness of each, in order (sockets,
/// then descriptors). A signal ends the wait early.
func poll(sockets: [ZMQSocket], fds: [Int32], milliseconds: Int = -1) -> [Bool] {
    var items = sockets.map { zmq_pollitem_t(socket: $0.handle, fd: -1, events: Int16(ZMQ_POLLIN), revents: 0) }
        + fds.map { zmq_pollitem_t(socket: nil, fd: $0, events: Int16(ZMQ_POLLIN), revents: 0) }
    let n = zmq_poll(&items, Int32(items.count), milliseconds)
    if n <= 0 { return items.map { _ in false } }
    return items.map { $0.revents & Int16(ZMQ_POLLIN) != 0 }
}
