import Foundation

/// One message of the Jupyter messaging protocol (version 5.3), as JSON objects, with the
/// ZeroMQ routing identities it arrived with (replies go back to them).
struct JupyterMessage {
    static let protocolVersion = "5.3"
    static let delimiter = Data("<IDS|MSG>".utf8)

    var identities: [Data] = []
    var header: [String: Any]
    var parentHeader: [String: Any] = [:]
    var metadata: [String: Any] = [:]
    var content: [String: Any]

    var type: String { header["msg_type"] as? String ?? "" }
    var id: String { header["msg_id"] as? String ?? "" }

    /// A new message of `type` in `session`, answering `parent` (its header becomes the parent
    /// header; its identities the routing).
    init(type: String, session: String, content: [String: Any], parent: JupyterMessage?) {
        header = [
            "msg_id": UUID().uuidString.lowercased(),
            "session": session,
            "username": "tfs",
            "date": JupyterMessage.timestamp(),
            "msg_type": type,
            "version": JupyterMessage.protocolVersion,
        ]
        parentHeader = parent?.header ?? [:]
        identities = parent?.identities ?? []
        self.content = content
    }

    /// Why a received message was refused.
    enum DecodeError: Error, CustomStringConvertible {
        case malformed(String), badSignature
        var description: String {
            switch self {
            case .malformed(let why): return "a malformed message (\(why))"
            case .badSignature: return "a message with a wrong signature"
            }
        }
    }

    /// Decodes the frames of a received message, checking its signature.
    init(frames: [Data], signer: MessageSigner) throws {
        guard let split = frames.firstIndex(of: JupyterMessage.delimiter) else { throw DecodeError.malformed("no <IDS|MSG> delimiter") }
        let rest = Array(frames[(split + 1)...])
        guard rest.count >= 5 else { throw DecodeError.malformed("\(rest.count) frames after the delimiter, 5 expected") }
        guard signer.verify(rest[0], frames: Array(rest[1...4])) else { throw DecodeError.badSignature }
        func object(_ frame: Data, _ name: String) throws -> [String: Any] {
            guard let value = (try? JSONSerialization.jsonObject(with: frame)) as? [String: Any] else {
                throw DecodeError.malformed("the \(name) is not a JSON object")
            }
            return value
        }
        identities = Array(frames[..<split])
        header = try object(rest[1], "header")
        parentHeader = try object(rest[2], "parent header")
        metadata = try object(rest[3], "metadata")
        content = try object(rest[4], "content")
        guard header["msg_type"] is String else { throw DecodeError.malformed("the header has no msg_type") }
    }

    /// The frames to send: identities (or `topic` on IOPub), delimiter, signature, JSON parts.
    func frames(signer: MessageSigner, topic: String? = nil) -> [Data] {
        let parts = [header, parentHeader, metadata, content].map(JupyterMessage.json)
        let routing = topic.map { [Data($0.utf8)] } ?? identities
        return routing + [JupyterMessage.delimiter, Data(signer.signature(parts).utf8)] + parts
    }

    static func json(_ object: [String: Any]) -> Data {
        (try? JSONSerialization.data(withJSONObject: object, options: [.withoutEscapingSlashes])) ?? Data("{}".utf8)
    }

    /// ISO 8601 with microseconds, in UTC (the protocol's `date`).
    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date())
    }
}
