import Foundation
import Testing
import TensorGraph

/// Each test gets a fresh instance, hence its own scratch directory (tests run in parallel).
@Suite final class SafetensorsTests {
    let dir = NSTemporaryDirectory() + "safetensors-tests-" + UUID().uuidString

    init() throws { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: dir) }

    private static func littleEndian16(_ values: [UInt16]) -> [UInt8] {
        values.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
    }

    /// `read` must throw a TensorGraphError whose message names the file and contains `expected`.
    private static func expectReadError(_ path: String, _ expected: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let file = try Safetensors.read(path: path)
            Issue.record("expected an error containing '\(expected)', read \(file.entries.count) entries", sourceLocation: sourceLocation)
        } catch let error as TensorGraphError {
            #expect(error.message.contains(expected), "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.message.contains(path), "\(error.message)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected a TensorGraphError, got \(error)", sourceLocation: sourceLocation)
        }
    }

    // MARK: - Round trips

    @Test func roundTripsSeveralF32TensorsWithMetadata() throws {
        let path = dir + "/model.safetensors"
        let tensors: [(String, TensorData)] = [
            ("w", TensorData(shape: [2, 3], values: [1, -2, 3.5, 0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude])),
            ("b", TensorData(shape: [3], values: [0.1, 0.2, 0.3])),
            ("scale", TensorData(scalar: 42)),
            ("nothing", TensorData(shape: [0], values: [])),
            ("empty.matrix", TensorData(shape: [2, 0, 3], values: [])),
        ]
        let metadata = ["format": "pt", "note": "quote \" backslash \\ newline \n tab \t é ∑"]
        try Safetensors.write(tensors, metadata: metadata, to: path)

        let file = try Safetensors.read(path: path)
        #expect(file.metadata == metadata)
        #expect(file.entries.count == tensors.count)
        #expect(file.entries.allSatisfy { $0.dtype == .f32 })
        #expect(file["scale"]?.shape == [])
        let read = try Safetensors.readTensors(path: path)
        for (name, tensor) in tensors { #expect(read[name] == tensor, "\(name)") }
    }

    @Test func writesSortedKeysAlignedHeaderAndWidestElementsFirst() throws {
        let path = dir + "/layout.safetensors"
        try Safetensors.write(entries: [
            Safetensors.Entry(name: "z.mask", shape: [3], bool: [true, false, true]),
            Safetensors.Entry(name: "a.weights", float32: TensorData(shape: [2], values: [1, 2])),
            Safetensors.Entry(name: "m.ids", shape: [1], uint8: [9]),
        ], metadata: ["k": "v"], to: path)

        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let n = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
        #expect(n % 8 == 0)
        let header = String(decoding: bytes[8..<8 + n], as: UTF8.self)
        let positions = ["__metadata__", "a.weights", "m.ids", "z.mask"].map { header.range(of: $0)!.lowerBound }
        #expect(positions == positions.sorted())
        #expect(header.contains(#""a.weights":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#))
        // Entries come back in buffer order: the F32 tensor first so it sits 8-aligned.
        #expect(try Safetensors.read(path: path).entries.map(\.name) == ["a.weights", "m.ids", "z.mask"])
    }

    @Test func writesAndReadsU8AndBool() throws {
        let path = dir + "/mask.safetensors"
        let mask = try Safetensors.Entry(name: "mask", shape: [2, 3], bool: [true, false, false, true, true, false])
        let ids = try Safetensors.Entry(name: "ids", shape: [4], uint8: [0, 1, 128, 255])
        try Safetensors.write(entries: [mask, ids], to: path)

        let file = try Safetensors.read(path: path)
        #expect(file["mask"] == mask)
        #expect(file["ids"] == ids)
        #expect(file["mask"]?.bytes == [1, 0, 0, 1, 1, 0])
        #expect(file["mask"]?.tensorData == TensorData(shape: [2, 3], values: [1, 0, 0, 1, 1, 0]))
        #expect(file["ids"]?.floats == [0, 1, 128, 255])
        #expect(file.metadata.isEmpty)
    }

    // MARK: - Decoding

    @Test func decodesF16BitPatterns() throws {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0), (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125), (0x7BFF, 65504),
            (0x0400, 0x1p-14), (0x0001, 0x1p-24), (0x03FF, 1023 * 0x1p-24), (0x7C00, .infinity), (0xFC00, -.infinity),
        ]
        let path = dir + "/f16.safetensors"
        let patterns = cases.map(\.0) + [0x8000, 0x7E00]
        let entry = try Safetensors.Entry(name: "h", dtype: .f16, shape: [patterns.count], bytes: Self.littleEndian16(patterns))
        try Safetensors.write(entries: [entry], to: path)
        let floats = try #require(try Safetensors.read(path: path)["h"]).floats
        #expect(Array(floats.prefix(cases.count)) == cases.map(\.1))
        #expect(floats[cases.count] == 0 && floats[cases.count].sign == .minus)  // -0 keeps its sign
        #expect(floats[cases.count + 1].isNaN)
    }

    @Test func decodesBF16BitPatterns() throws {
        let cases: [(UInt16, Float)] = [
            (0x0000, 0), (0x3F80, 1), (0xC040, -3), (0x4049, 3.140625), (0x7F7F, 0x1.FEp127),
            (0x0001, Float(bitPattern: 0x0001_0000)), (0x7F80, .infinity), (0xFF80, -.infinity),
        ]
        let entry = try Safetensors.Entry(name: "b", dtype: .bf16, shape: [cases.count], bytes: Self.littleEndian16(cases.map(\.0)))
        #expect(entry.floats == cases.map(\.1))
        #expect(try Safetensors.Entry(name: "n", dtype: .bf16, shape: [], bytes: Self.littleEndian16([0x7FC0])).floats[0].isNaN)
    }

    @Test func convertsWideTypesToFloat() throws {
        func bytes<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
            values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } }
        }
        let f64 = try Safetensors.Entry(name: "d", dtype: .f64, shape: [3], bytes: bytes([1.5, -1e300, 0.1].map(\.bitPattern)))
        #expect(f64.floats == [1.5, -.infinity, 0.1])
        let i32 = try Safetensors.Entry(name: "i", dtype: .i32, shape: [3], bytes: bytes([Int32.min, -1, 7]))
        #expect(i32.floats == [-2147483648, -1, 7])
        let i64 = try Safetensors.Entry(name: "l", dtype: .i64, shape: [1, 2], bytes: bytes([Int64(-5), 1 << 40]))
        #expect(i64.floats == [-5, 0x1p40])
    }

    // MARK: - Writing errors and atomicity

    @Test func entryRejectsBytesThatDoNotMatchTheShape() {
        #expect(throws: TensorGraphError.self) { try Safetensors.Entry(name: "x", dtype: .f32, shape: [2], bytes: [0, 0, 0, 0]) }
        #expect(throws: TensorGraphError.self) { try Safetensors.Entry(name: "x", shape: [-1], uint8: []) }
        #expect(throws: TensorGraphError.self) { try Safetensors.Entry(name: "x", shape: [2, 2], bool: [true]) }
    }

    @Test func writeRejectsDuplicateAndReservedNames() throws {
        let t = TensorData(scalar: 1)
        #expect(throws: TensorGraphError.self) { try Safetensors.write([("a", t), ("a", t)], to: dir + "/dup.safetensors") }
        #expect(throws: TensorGraphError.self) { try Safetensors.write([("__metadata__", t)], to: dir + "/meta.safetensors") }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func overwritesAtomicallyWithoutLeavingTempFiles() throws {
        let path = dir + "/ckpt.safetensors"
        try Safetensors.write([("w", TensorData(shape: [2], values: [1, 2]))], to: path)
        try Safetensors.write([("w", TensorData(shape: [3], values: [4, 5, 6]))], metadata: ["step": "2"], to: path)
        #expect(try Safetensors.readTensors(path: path) == ["w": TensorData(shape: [3], values: [4, 5, 6])])
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["ckpt.safetensors"])

        let unwritable = "/proc/self/no/such/dir/x.safetensors"
        let error = #expect(throws: TensorGraphError.self) { try Safetensors.write([("w", TensorData(scalar: 1))], to: unwritable) }
        #expect(error?.message.contains(unwritable) == true)
    }

    /// A folder that cannot take the temp file: a clear error naming the path and the cause,
    /// and the file already there is unchanged.
    @Test func aFailedWriteSaysWhyAndLeavesThePreviousFile() throws {
        let folder = dir + "/locked", path = folder + "/ckpt.safetensors"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Safetensors.write([("w", TensorData(shape: [2], values: [1, 2]))], metadata: ["step": "1"], to: path)
        chmod(folder, 0o500)
        defer { chmod(folder, 0o700) }
        guard access(folder, W_OK) != 0 else { return }   // root writes anywhere: nothing to test
        let error = #expect(throws: TensorGraphError.self) {
            try Safetensors.write([("w", TensorData(shape: [2], values: [3, 4]))], metadata: ["step": "2"], to: path)
        }
        #expect(error?.message == "safetensors '\(path)': its folder \(folder) is not writable")
        #expect(try Safetensors.readTensors(path: path) == ["w": TensorData(shape: [2], values: [1, 2])])
        #expect(try Safetensors.readMetadata(path: path) == ["step": "1"])
    }

    /// A rename that fails (the target is a folder that holds a file) removes the temp file and
    /// says which step failed.
    @Test func aFailedRenameRemovesItsTempFile() throws {
        let path = dir + "/taken.safetensors"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: path + "/inside", contents: Data([1]))
        let error = #expect(throws: TensorGraphError.self) { try Safetensors.write([("w", TensorData(shape: [1], values: [1]))], to: path) }
        #expect(error?.message.hasPrefix("cannot write '\(path)': rename failed: ") == true, "\(error?.message ?? "")")
        #expect(error?.message.hasSuffix("; the file there before, if any, is unchanged") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["taken.safetensors"])
    }

    /// F20: temp files left by writers that were killed mid-write (their process is gone, or
    /// they are over an hour old) are removed by the next write to the same path; a live
    /// writer's, this process's and another target's are left alone.
    @Test func theNextWriteRemovesStaleTempFilesOfItsTarget() throws {
        let path = dir + "/ckpt.safetensors"
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run(); finished.waitUntilExit()
        let dead = finished.processIdentifier, live = getppid()
        let names = [".ckpt.safetensors.\(dead).17.tmp", ".ckpt.safetensors.\(live).18.tmp", ".ckpt.safetensors.\(live).19.tmp",
                     ".ckpt.safetensors.\(getpid()).20.tmp", ".other.safetensors.\(dead).21.tmp", ".ckpt.safetensors.notes.tmp"]
        for name in names { #expect(FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([1, 2, 3]))) }
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -7200)], ofItemAtPath: dir + "/" + names[2])
        try Safetensors.write([("w", TensorData(shape: [1], values: [1]))], to: path)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == ["ckpt.safetensors", names[1], names[3], names[4], names[5]])
    }

    @Test func readsTheMetadataAloneFromTheHeader() throws {
        let path = dir + "/m.safetensors"
        try Safetensors.write([("w", TensorData(shape: [2], values: [1, 2]))], metadata: ["step": "7", "format": "x"], to: path)
        #expect(try Safetensors.readMetadata(path: path) == ["step": "7", "format": "x"])
        try Safetensors.write([("w", TensorData(shape: [2], values: [1, 2]))], to: path)
        #expect(try Safetensors.readMetadata(path: path) == [:])
        FileManager.default.createFile(atPath: path, contents: Data([1, 2, 3]))
        let error = #expect(throws: TensorGraphError.self) { try Safetensors.readMetadata(path: path) }
        #expect(error?.message.contains("truncated") == true)
    }

    // MARK: - Corrupt files

    /// A file with the given header text; `length` overrides the header length prefix.
    private static func rawFile(_ header: String, buffer: Int = 0, length: UInt64? = nil) -> [UInt8] {
        let h = Array(header.utf8)
        return withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { Array($0) } + h + [UInt8](repeating: 7, count: buffer)
    }

    struct CorruptCase: Sendable, CustomTestStringConvertible {
        let label: String
        let bytes: [UInt8]
        let expected: String
        var testDescription: String { label }
    }

    private static let f32a = #""a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#

    static let corruptCases: [CorruptCase] = [
        CorruptCase(label: "empty file", bytes: [], expected: "truncated"),
        CorruptCase(label: "shorter than length prefix", bytes: [1, 0, 0, 0, 0], expected: "truncated"),
        CorruptCase(label: "header longer than file", bytes: rawFile("{}", length: 1000), expected: "truncated: header length 1000"),
        CorruptCase(label: "header length > 100 MB", bytes: rawFile("{}", length: 200_000_000), expected: "absurd"),
        CorruptCase(label: "header length UInt64.max", bytes: rawFile("{}", length: .max), expected: "absurd"),
        CorruptCase(label: "header not JSON", bytes: rawFile("not json at all"), expected: "header is not a JSON object"),
        CorruptCase(label: "header truncated JSON", bytes: rawFile(#"{"a":{"dtype":"F3"#), expected: "header is not a JSON object"),
        CorruptCase(label: "header nested 100k deep", bytes: rawFile(String(repeating: "[", count: 100_000)),
                    expected: "header is not a JSON object"),
        CorruptCase(label: "header a JSON array", bytes: rawFile("[1, 2]"), expected: "header is not a JSON object"),
        CorruptCase(label: "tensor not an object", bytes: rawFile(#"{"a": 3}"#), expected: "tensor 'a' is not a JSON object"),
        CorruptCase(label: "missing dtype", bytes: rawFile(#"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, buffer: 4),
                    expected: "tensor 'a' has no dtype"),
        CorruptCase(label: "unknown dtype", bytes: rawFile(#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, buffer: 1),
                    expected: "unknown dtype 'F8_E4M3'"),
        CorruptCase(label: "negative shape", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, buffer: 4),
                    expected: "shape must be a list of non-negative integers"),
        CorruptCase(label: "fractional shape", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, buffer: 4),
                    expected: "shape must be a list of non-negative integers"),
        CorruptCase(label: "boolean shape", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, buffer: 4),
                    expected: "shape must be a list of non-negative integers"),
        CorruptCase(label: "shape not a list", bytes: rawFile(#"{"a":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}"#, buffer: 4),
                    expected: "shape must be a list of non-negative integers"),
        CorruptCase(label: "three offsets", bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, buffer: 8),
                    expected: "data_offsets must be two integers"),
        CorruptCase(label: "offsets past the buffer", bytes: rawFile("{\(f32a)}", buffer: 3), expected: "out of range"),
        CorruptCase(label: "offsets reversed", bytes: rawFile(#"{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}"#, buffer: 4),
                    expected: "out of range"),
        CorruptCase(label: "offsets disagree with dtype×shape",
                    bytes: rawFile(#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, buffer: 4), expected: "data_offsets span 4"),
        CorruptCase(label: "shape product overflows",
                    bytes: rawFile(#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, buffer: 4),
                    expected: "too large"),
        CorruptCase(label: "overlapping tensors",
                    bytes: rawFile("{\(f32a),\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}", buffer: 8),
                    expected: "overlaps"),
        CorruptCase(label: "gap before a tensor",
                    bytes: rawFile(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, buffer: 8), expected: "gap"),
        CorruptCase(label: "trailing bytes", bytes: rawFile("{\(f32a)}", buffer: 6), expected: "2 bytes not covered"),
        CorruptCase(label: "metadata value not a string",
                    bytes: rawFile(#"{"__metadata__":{"k":1}}"#), expected: "__metadata__ must map strings to strings"),
    ]

    @Test(arguments: SafetensorsTests.corruptCases)
    func rejectsCorruptFile(_ c: CorruptCase) throws {
        let path = dir + "/corrupt.safetensors"
        try Data(c.bytes).write(to: URL(fileURLWithPath: path))
        Self.expectReadError(path, c.expected)
    }

    @Test func rejectsEveryTruncationOfAValidFile() throws {
        let good = dir + "/good.safetensors"
        try Safetensors.write([("w", TensorData(shape: [2, 2], values: [1, 2, 3, 4]))], metadata: ["a": "b"], to: good)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: good))
        let path = dir + "/cut.safetensors"
        for keep in 0..<bytes.count {
            try bytes.prefix(keep).write(to: URL(fileURLWithPath: path))
            #expect(throws: TensorGraphError.self, "kept \(keep) of \(bytes.count) bytes") { try Safetensors.read(path: path) }
        }
    }

    @Test func rejectsMissingFile() throws {
        Self.expectReadError(dir + "/absent.safetensors", "cannot read")
    }

    // MARK: - Python compatibility

    /// Runs `python -c script args...` with the test Python scripts/setup makes
    /// (`$TFS_VENV`, else ~/.cache/tfs/venv); nil if it cannot be started.
    private static func runPython(_ script: String, _ args: [String] = []) -> (status: Int32, out: Data, err: String)? {
        let env = ProcessInfo.processInfo.environment
        let venv = env["TFS_VENV"] ?? (env["HOME"] ?? NSHomeDirectory()) + "/.cache/tfs/venv"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: venv + "/bin/python")
        process.arguments = ["-c", script] + args
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        guard (try? process.run()) != nil else { return nil }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, outData, String(decoding: errData, as: UTF8.self))
    }

    /// Nil when the test Python has safetensors and numpy; else why not (the tests fail on it).
    static let pythonProblem: String? = {
        guard let r = runPython("import safetensors, numpy") else { return "the test Python does not start: run scripts/setup" }
        return r.status == 0 ? nil : "the test Python cannot import safetensors, numpy: run scripts/setup\n\(r.err)"
    }()

    @Test func pythonReadsWhatSwiftWrites() throws {
        try #require(Self.pythonProblem == nil, "\(Self.pythonProblem ?? "")")
        let path = dir + "/from-swift.safetensors"
        let weights = TensorData(shape: [2, 3], values: [-1.5, 0, 0.25, 3e-8, 1e30, -7])
        try Safetensors.write(entries: [
            Safetensors.Entry(name: "weights", float32: weights),
            Safetensors.Entry(name: "scalar", float32: TensorData(scalar: 42)),
            Safetensors.Entry(name: "empty", float32: TensorData(shape: [0, 3], values: [])),
            Safetensors.Entry(name: "mask", shape: [2, 2], bool: [true, false, false, true]),
            Safetensors.Entry(name: "ids", shape: [3], uint8: [0, 7, 255]),
        ], metadata: ["format": "tfs", "note": "quote \" é"], to: path)

        let script = """
        import json, sys, numpy as np
        from safetensors import safe_open
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], "np") as f:
            metadata = f.metadata()
        print(json.dumps({"metadata": metadata, "tensors": {k: {"dtype": str(v.dtype), "shape": list(v.shape),
            "values": v.astype(np.float64).ravel().tolist()} for k, v in tensors.items()}}))
        """
        let result = try #require(Self.runPython(script, [path]))
        try #require(result.status == 0, "python failed: \(result.err)")
        let json = try #require(try JSONSerialization.jsonObject(with: result.out) as? [String: Any])
        #expect(json["metadata"] as? [String: String] == ["format": "tfs", "note": "quote \" é"])
        let tensors = try #require(json["tensors"] as? [String: [String: Any]])
        func check(_ name: String, _ dtype: String, _ shape: [Int], _ values: [Float]) {
            #expect(tensors[name]?["dtype"] as? String == dtype, "\(name)")
            #expect(tensors[name]?["shape"] as? [Int] == shape, "\(name)")
            #expect((tensors[name]?["values"] as? [Double])?.map { Float($0) } == values, "\(name)")
        }
        #expect(tensors.count == 5)
        check("weights", "float32", [2, 3], weights.values)
        check("scalar", "float32", [], [42])
        check("empty", "float32", [0, 3], [])
        check("mask", "bool", [2, 2], [1, 0, 0, 1])
        check("ids", "uint8", [3], [0, 7, 255])
    }

    @Test func swiftReadsWhatPythonWrites() throws {
        try #require(Self.pythonProblem == nil, "\(Self.pythonProblem ?? "")")
        let path = dir + "/from-python.safetensors"
        let script = """
        import sys, numpy as np
        from safetensors.numpy import save_file
        save_file({
            "f32": np.array([[1.5, -2.0], [0.1, 3e-5]], dtype=np.float32),
            "f16": np.array([1, -2.5, 65504, 6e-8, 0.1], dtype=np.float16),
            "mask": np.array([[True, False, True]]),
            "i64": np.array([-3, 5], dtype=np.int64),
            "scalar": np.array(2.5, dtype=np.float32),
        }, sys.argv[1], metadata={"origin": "python"})
        """
        let result = try #require(Self.runPython(script, [path]))
        try #require(result.status == 0, "python failed: \(result.err)")

        let file = try Safetensors.read(path: path)
        #expect(file.metadata == ["origin": "python"])
        #expect(file["f16"]?.dtype == .f16)
        #expect(file["mask"]?.dtype == .bool)
        #expect(file["mask"]?.bytes == [1, 0, 1])
        let tensors = try Safetensors.readTensors(path: path)
        #expect(tensors == [
            "f32": TensorData(shape: [2, 2], values: [1.5, -2, 0.1, 3e-5]),
            "f16": TensorData(shape: [5], values: [1, -2.5, 65504, 0x1p-24, 0.0999755859375]),
            "mask": TensorData(shape: [1, 3], values: [1, 0, 1]),
            "i64": TensorData(shape: [2], values: [-3, 5]),
            "scalar": TensorData(scalar: 2.5),
        ])
    }

    /// A checkpoint's folder is made when missing (a fresh checkout has no runs/); a folder
    /// that cannot be made is refused with the path named.
    @Test func writingMakesTheFolder() throws {
        let root = NSTemporaryDirectory() + "tfs-st-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/runs/deeper/x.safetensors"
        try Safetensors.write([("w", TensorData(shape: [2], values: [1, 2]))], to: path)
        #expect(try Safetensors.read(path: path)["w"]?.tensorData.values == [1, 2])
        #expect(throws: TensorGraphError.self) { try Safetensors.checkWritable("/proc/self/none/x.safetensors") }
    }
}
