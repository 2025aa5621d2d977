import COpenSSL
import Foundation

/// Signs and checks Jupyter messages with HMAC-SHA256 (OpenSSL's libcrypto) over the four
/// JSON frames (header, parent header, metadata, content). An empty key signs nothing, as
/// the protocol allows.
struct MessageSigner: Sendable {
    let key: Data

    /// The hex digest of the frames, or "" without a key.
    func signature(_ frames: [Data]) -> String {
        guard !key.isEmpty else { return "" }
        var joined = Data()
        for frame in frames { joined.append(frame) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        _ = key.withUnsafeBytes { k in
            joined.withUnsafeBytes { d in
                HMAC(EVP_sha256(), k.baseAddress, Int32(key.count),
                     d.baseAddress?.assumingMemoryBound(to: UInt8.self), d.count, &digest, &length)
            }
        }
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    /// Whether `signature` is the frames' signature (compared in constant time).
    func verify(_ signature: Data, frames: [Data]) -> Bool {
        let expected = Data(self.signature(frames).utf8)
        guard expected.count == signature.count else { return false }
        return expected.withUnsafeBytes { e in
            signature.withUnsafeBytes { s in CRYPTO_memcmp(e.baseAddress, s.baseAddress, e.count) == 0 }
        }
    }
}
