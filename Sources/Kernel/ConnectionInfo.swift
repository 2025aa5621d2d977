import Foundation

/// The connection file Jupyter hands a kernel (`tfs kernel -f FILE`): where to bind the five
/// sockets and the key that signs messages.
public struct ConnectionInfo: Sendable {
    public var transport: String
    public var ip: String
    public var shellPort: Int, iopubPort: Int, stdinPort: Int, controlPort: Int, hbPort: Int
    public var key: String
    public var signatureScheme: String

    /// Reads and checks a connection file; the error names the file and the field.
    public init(path: String) throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw KernelError("cannot read the connection file \(path): \(error.localizedDescription)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw KernelError("\(path): not a JSON object")
        }
        func port(_ name: String) throws -> Int {
            guard let value = object[name] as? Int, (0...65535).contains(value) else {
                throw KernelError("\(path): '\(name)' must be a port number")
            }
            return value
        }
        transport = object["transport"] as? String ?? "tcp"
        ip = object["ip"] as? String ?? "127.0.0.1"
        shellPort = try port("shell_port"); iopubPort = try port("iopub_port")
        stdinPort = try port("stdin_port"); controlPort = try port("control_port"); hbPort = try port("hb_port")
        key = object["key"] as? String ?? ""
        signatureScheme = object["signature_scheme"] as? String ?? "hmac-sha256"
        guard transport == "tcp" || transport == "ipc" else {
            throw KernelError("\(path): transport '\(transport)' is not supported (tcp or ipc)")
        }
        guard signatureScheme == "hmac-sha256" else {
            throw KernelError("\(path): signature scheme '\(signatureScheme)' is not supported (hmac-sha256)")
        }
    }

    /// The ZeroMQ address of a port: `tcp://IP:PORT`, or `ipc://IP-PORT`.
    func address(_ port: Int) -> String {
        transport == "ipc" ? "ipc://\(ip)-\(port)" : "tcp://\(ip):\(port)"
    }
}

/// A kernel that cannot start (a bad connection file, a port in use).
public struct KernelError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
