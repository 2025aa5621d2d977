import Foundation

/// Reading and writing the safetensors format (https://huggingface.co/docs/safetensors):
/// an 8-byte little-endian header length N, N bytes of JSON describing each tensor
/// (`dtype`, `shape`, `data_offsets` relative to the buffer) plus optional string
/// `__metadata__`, then the raw little-endian row-major buffer.
///
/// Files come from outside, so the reader trusts nothing: every size is checked against
/// the file before anything is allocated, and every problem is a `TensorGraphError`
/// naming the file.
public enum Safetensors {
    /// Element types. All of them can be read (and converted to Float); any can be written from raw bytes.
    public enum DType: String, Sendable, CaseIterable {
        case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
        case i64 = "I64", i32 = "I32", u8 = "U8", bool = "BOOL"

        public var byteSize: Int {
            switch self {
            case .f64, .i64: return 8
            case .f32, .i32: return 4
            case .f16, .bf16: return 2
            case .u8, .bool: return 1
            }
        }
    }

    /// One tensor as stored: its bytes are exactly `shape product × dtype.byteSize` long.
    public struct Entry: Equatable, Sendable {
        public let name: String
        public let dtype: DType
        public let shape: [Int]
        public let bytes: [UInt8]

        public init(name: String, dtype: DType, shape: [Int], bytes: [UInt8]) throws {
            guard let n = Safetensors.byteCount(dtype, shape) else {
                throw TensorGraphError("safetensors entry '\(name)': invalid shape \(shape)")
            }
            guard n == bytes.count else {
                throw TensorGraphError("safetensors entry '\(name)': \(dtype.rawValue) shape \(shape) needs \(n) bytes, got \(bytes.count)")
            }
            self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
        }

        /// An F32 entry; TensorData already guarantees values match its shape.
        public init(name: String, float32 tensor: TensorData) {
            let bits = tensor.values.map { $0.bitPattern.littleEndian }
            self.name = name; self.dtype = .f32; self.shape = tensor.shape
            self.bytes = bits.withUnsafeBytes { Array($0) }
        }

        public init(name: String, shape: [Int], uint8 values: [UInt8]) throws {
            try self.init(name: name, dtype: .u8, shape: shape, bytes: values)
        }

        public init(name: String, shape: [Int], bool values: [Bool]) throws {
            try self.init(name: name, dtype: .bool, shape: shape, bytes: values.map { $0 ? 1 : 0 })
        }

        /// The values converted to Float (bool → 0/1; wide integers and F64 round to nearest).
        public var floats: [Float] {
            switch dtype {
            case .f32: return load(UInt32.self).map { Float(bitPattern: $0) }
            case .f64: return load(UInt64.self).map { Float(Double(bitPattern: $0)) }
            case .f16: return load(UInt16.self).map(Safetensors.floatFromHalf)
            case .bf16: return load(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) }  // bf16 is the top half of an f32
            case .i64: return load(Int64.self).map { Float($0) }
            case .i32: return load(Int32.self).map { Float($0) }
            case .u8: return bytes.map { Float($0) }
            case .bool: return bytes.map { $0 != 0 ? 1 : 0 }
            }
        }

        public var tensorData: TensorData { TensorData(shape: shape, values: floats) }

        private func load<T: FixedWidthInteger>(_: T.Type) -> [T] {
            bytes.withUnsafeBytes { raw in
                (0..<bytes.count / MemoryLayout<T>.size).map {
                    T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))
                }
            }
        }
    }

    /// Byte size of a tensor, or nil if a dimension is negative or the size overflows.
    static func byteCount(_ dtype: DType, _ shape: [Int]) -> Int? {
        MemoryLimit.count([dtype.byteSize] + shape)
    }

    static func floatFromHalf(_ h: UInt16) -> Float {
        let sign: Float = h & 0x8000 != 0 ? -1 : 1
        let exponent = Int(h >> 10) & 0x1F, mantissa = Float(h & 0x3FF)
        switch exponent {
        case 0: return sign * mantissa * 0x1p-24                      // zero and subnormals
        case 31: return mantissa == 0 ? sign * .infinity : .nan
        default: return sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }
}

/// The contents of a safetensors file: entries in buffer order, and the string metadata.
public struct SafetensorsFile: Equatable, Sendable {
    public var entries: [Safetensors.Entry]
    public var metadata: [String: String]

    public init(entries: [Safetensors.Entry], metadata: [String: String] = [:]) {
        self.entries = entries; self.metadata = metadata
    }

    public subscript(name: String) -> Safetensors.Entry? { entries.first { $0.name == name } }
}

// MARK: - Reading

extension Safetensors {
    /// Same bound as the reference implementation: no honest header comes near it.
    static let maxHeaderBytes = 100_000_000

    public static func read(path: String) throws -> SafetensorsFile {
        func corrupt(_ problem: String) -> TensorGraphError {
            TensorGraphError("safetensors file '\(path)': \(problem)")
        }
        let bytes: Data  // indexed from 0, as contentsOf: creates it
        do { bytes = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw corrupt("cannot read: \(error.localizedDescription)")
        }
        guard bytes.count >= 8 else { throw corrupt("truncated: \(bytes.count) bytes, shorter than the 8-byte header length") }
        let n = bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard n <= UInt64(maxHeaderBytes) else { throw corrupt("header length \(n) is absurd (limit \(maxHeaderBytes))") }
        guard n <= UInt64(bytes.count - 8) else { throw corrupt("truncated: header length \(n) but only \(bytes.count - 8) bytes follow") }
        let headerEnd = 8 + Int(n)

        guard let json = try? JSONSerialization.jsonObject(with: bytes[8..<headerEnd]),
              let header = json as? [String: Any] else { throw corrupt("header is not a JSON object") }

        var metadata: [String: String] = [:]
        var located: [(begin: Int, end: Int, entry: Entry)] = []
        let bufferSize = bytes.count - headerEnd
        for (name, value) in header {
            if name == "__metadata__" {
                guard let m = value as? [String: String] else { throw corrupt("__metadata__ must map strings to strings") }
                metadata = m
                continue
            }
            guard let info = value as? [String: Any] else { throw corrupt("tensor '\(name)' is not a JSON object") }
            guard let dtypeName = info["dtype"] as? String else { throw corrupt("tensor '\(name)' has no dtype") }
            guard let dtype = DType(rawValue: dtypeName) else { throw corrupt("tensor '\(name)' has unknown dtype '\(dtypeName)'") }
            guard let shape = integers(info["shape"]), shape.allSatisfy({ $0 >= 0 }) else {
                throw corrupt("tensor '\(name)' shape must be a list of non-negative integers")
            }
            guard let offsets = integers(info["data_offsets"]), offsets.count == 2 else {
                throw corrupt("tensor '\(name)' data_offsets must be two integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard 0 <= begin, begin <= end, end <= bufferSize else {
                throw corrupt("tensor '\(name)' data_offsets [\(begin), \(end)] out of range (buffer is \(bufferSize) bytes)")
            }
            guard let size = byteCount(dtype, shape) else { throw corrupt("tensor '\(name)' shape \(shape) is too large") }
            guard size == end - begin else {
                throw corrupt("tensor '\(name)' is \(dtype.rawValue) \(shape) = \(size) bytes but data_offsets span \(end - begin)")
            }
            let entry = try Entry(name: name, dtype: dtype, shape: shape, bytes: Array(bytes[headerEnd + begin ..< headerEnd + end]))
            located.append((begin, end, entry))
        }

        // Like the reference reader, require the tensors to tile the buffer exactly:
        // this rejects overlaps, gaps and trailing bytes in one rule.
        located.sort { ($0.begin, $0.end, $0.entry.name) < ($1.begin, $1.end, $1.entry.name) }
        var cursor = 0
        for t in located {
            guard t.begin == cursor else {
                throw corrupt(t.begin < cursor ? "tensor '\(t.entry.name)' overlaps the previous tensor"
                                               : "gap in the buffer before tensor '\(t.entry.name)'")
            }
            cursor = t.end
        }
        guard cursor == bufferSize else { throw corrupt("buffer has \(bufferSize - cursor) bytes not covered by any tensor") }
        return SafetensorsFile(entries: located.map(\.entry), metadata: metadata)
    }

    /// The string metadata of a file, reading its header alone (choosing the newest of several
    /// checkpoints need not read their tensors).
    public static func readMetadata(path: String) throws -> [String: String] {
        func corrupt(_ problem: String) -> TensorGraphError { TensorGraphError("safetensors file '\(path)': \(problem)") }
        guard let handle = FileHandle(forReadingAtPath: path) else { throw corrupt("cannot read: \(String(cString: strerror(errno)))") }
        defer { try? handle.close() }
        let prefix = (try? handle.read(upToCount: 8)) ?? Data()
        guard prefix.count == 8 else { throw corrupt("truncated: shorter than the 8-byte header length") }
        let n = prefix.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard n <= UInt64(maxHeaderBytes) else { throw corrupt("header length \(n) is absurd (limit \(maxHeaderBytes))") }
        let header = (try? handle.read(upToCount: Int(n))) ?? Data()
        guard header.count == Int(n), let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw corrupt("header is not a JSON object")
        }
        guard let strings = (json["__metadata__"] ?? [String: String]()) as? [String: String] else {
            throw corrupt("__metadata__ must map strings to strings")
        }
        return strings
    }

    /// Every tensor converted to Float, by name.
    public static func readTensors(path: String) throws -> [String: TensorData] {
        Dictionary(uniqueKeysWithValues: try read(path: path).entries.map { ($0.name, $0.tensorData) })
    }

    /// A JSON array of integers, or nil. Booleans and floats (even 2.0) are NSNumbers too, so check the type code.
    private static func integers(_ value: Any?) -> [Int]? {
        guard let array = value as? [Any] else { return nil }
        var out: [Int] = []
        for v in array {
            guard let n = v as? NSNumber, !["c", "d", "f"].contains(String(cString: n.objCType)),
                  let i = n as? Int else { return nil }
            out.append(i)
        }
        return out
    }
}

// MARK: - Writing

extension Safetensors {
    /// Writes F32 tensors.
    public static func write(_ tensors: [(String, TensorData)], metadata: [String: String] = [:], to path: String) throws {
        try write(entries: tensors.map { Entry(name: $0.0, float32: $0.1) }, metadata: metadata, to: path)
    }

    /// Writes any entries, atomically: a crash leaves either the old file or the new one, never a torn one.
    public static func write(entries: [Entry], metadata: [String: String] = [:], to path: String) throws {
        let names = entries.map(\.name)
        guard Set(names).count == names.count else { throw TensorGraphError("safetensors '\(path)': duplicate tensor names") }
        guard !names.contains("__metadata__") else { throw TensorGraphError("safetensors '\(path)': '__metadata__' is reserved") }

        // Buffer order: widest elements first (then by name), so every tensor is naturally aligned
        // for readers that map the file; the reference writer sorts by dtype for the same reason.
        let laidOut = entries.sorted { ($1.dtype.byteSize, $0.name) < ($0.dtype.byteSize, $1.name) }
        var offsets: [String: (Int, Int)] = [:], bufferSize = 0
        for e in laidOut {
            offsets[e.name] = (bufferSize, bufferSize + e.bytes.count)
            bufferSize += e.bytes.count
        }

        // JSON keys in sorted order, as Python writes them; metadata first.
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        for e in entries.sorted(by: { $0.name < $1.name }) {
            let (begin, end) = offsets[e.name]!, shape = e.shape.map(String.init).joined(separator: ",")
            fields.append("\(jsonString(e.name)):{\"dtype\":\"\(e.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(end)]}")
        }
        var header = Array("{\(fields.joined(separator: ","))}".utf8)
        header += Array(repeating: UInt8(ascii: " "), count: (8 - header.count % 8) % 8)  // so the buffer starts 8-aligned

        var file = Data(capacity: 8 + header.count + bufferSize)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        for e in laidOut { file.append(contentsOf: e.bytes) }
        try writeAtomically(file, to: path)
    }

    /// Creates the folder of `path` if needed and checks that a file can be written there.
    public static func checkWritable(_ path: String) throws {
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) } catch {
            throw TensorGraphError("safetensors '\(path)': cannot create its folder: \(error.localizedDescription)")
        }
        guard access(dir, W_OK) == 0 else { throw TensorGraphError("safetensors '\(path)': its folder \(dir) is not writable") }
    }

    /// Temp file in the same directory (so rename stays on one filesystem), fsync, rename(2),
    /// fsync the directory. Any failure (no space, a file-size limit, an unwritable folder)
    /// removes the temp file and leaves the file at `path`, if any, as it was.
    static func writeAtomically(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        try checkWritable(path)
        removeStaleTemporaries(of: path)
        let temp = "\(dir)/.\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw TensorGraphError("cannot write '\(path)': cannot create a temp file in \(dir): \(String(cString: strerror(errno)))")
        }
        var failure = data.withUnsafeBytes { raw -> String? in
            var written = 0
            while written < raw.count {
                let n = systemWrite(fd, raw.baseAddress! + written, raw.count - written)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else {
                    return "writing failed after \(written) of \(raw.count) bytes: \(String(cString: strerror(n < 0 ? errno : EIO)))"
                }
                written += n
            }
            return nil
        }
        if failure == nil && fsync(fd) != 0 { failure = "fsync failed: \(String(cString: strerror(errno)))" }
        if close(fd) != 0 && failure == nil { failure = "close failed: \(String(cString: strerror(errno)))" }
        if failure == nil && rename(temp, path) != 0 { failure = "rename failed: \(String(cString: strerror(errno)))" }
        if let failure {
            unlink(temp)
            throw TensorGraphError("cannot write '\(path)': \(failure); the file there before, if any, is unchanged")
        }
        // Make the rename itself durable; failure here does not undo a completed write.
        let dirFD = open(dir, O_RDONLY)
        if dirFD >= 0 { fsync(dirFD); close(dirFD) }
    }

    /// A temp file of an earlier write to `path` that will never finish: its writer was killed
    /// (kill -9, power loss) before renaming it. Such files are `.NAME.<pid>.<random>.tmp` next to
    /// `path`; one is stale when its process is gone, or when it is over an hour old and not
    /// this process's (a pid can be reused).
    public static func removeStaleTemporaries(of path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path, prefix = ".\(url.lastPathComponent)."
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(prefix) && name.hasSuffix(".tmp") {
            let middle = name.dropFirst(prefix.count).dropLast(4).split(separator: ".", omittingEmptySubsequences: false)
            guard middle.count == 2, let pid = pid_t(middle[0]), pid > 0, UInt32(middle[1]) != nil, pid != getpid() else { continue }
            let file = "\(dir)/\(name)"
            let gone = kill(pid, 0) != 0 && errno == ESRCH
            let modified = (try? FileManager.default.attributesOfItem(atPath: file)[.modificationDate]) as? Date
            let old = modified.map { Date().timeIntervalSince($0) > 3600 } ?? false
            if gone || old { unlink(file) }
        }
    }

    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}

/// write(2) (inside `Safetensors`, `write` names its own methods).
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, bytes, count)
    #else
    Darwin.write(fd, bytes, count)
    #endif
}
