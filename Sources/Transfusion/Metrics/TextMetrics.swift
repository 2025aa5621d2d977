import Foundation
import TensorGraph

/// Bits per byte of text under a model: each document is BOS, its tokens (bytes, or the
/// model's BPE tokens), EOS, and the model predicts every token and the EOS from what comes
/// before; the negative log-likelihood of those predictions, in bits, is divided by the number
/// of bytes of text — so models with different tokenizers compare. Perplexity per byte is 2^bpb. The forward pass is one planned graph, built once and run over packed
/// rows (several documents per row, none seeing another: the model's mask & same_document).
///
/// Documents longer than a row (length − 2 bytes) are cut as training cuts them
/// (`TextCorpus.chunks`), each piece measured as its own document with its own BOS and EOS:
/// the number then matches what the model saw in training.
public struct BitsPerByte {
    /// One text's total negative log-likelihood in bits (bytes and EOS of each piece) and its bytes.
    public struct Document: Equatable, Sendable {
        public var bits: Double
        public var bytes: Int
        /// NaN for an empty text.
        public var bitsPerByte: Double { bits / Double(bytes) }
    }

    public struct Result: Equatable, Sendable {
        /// One per text given, in order (empty texts measure nothing).
        public let documents: [Document]
        public var bits: Double { documents.reduce(0) { $0 + $1.bits } }
        public var bytes: Int { documents.reduce(0) { $0 + $1.bytes } }
        /// Total bits over total bytes: long texts weigh by their length.
        public var bitsPerByte: Double { bits / Double(bytes) }
        public var perplexity: Double { pow(2, bitsPerByte) }
    }

    public let model: TransfusionModel
    public let length: Int, batch: Int
    /// Asked between batches of rows: a stop request (Ctrl-C) ends the measurement there.
    public var cancellation = Cancellation.never

    public init(model: TransfusionModel, length: Int = 64, batch: Int = 16) throws {
        guard length >= 6 else { throw TensorGraphError("bits per byte: a row of \(length) positions leaves no room for text (at least 6)") }
        guard batch >= 1 else { throw TensorGraphError("bits per byte: the batch must hold at least one row, got \(batch)") }
        self.model = model; self.length = length; self.batch = batch
    }

    public func measure(_ texts: [String]) throws -> Result {
        let pieces = texts.enumerated().flatMap { index, text in
            TextCorpus.chunks(text, maxBytes: length - 2).map { (text: index, piece: $0) }
        }
        guard !pieces.isEmpty else { throw TensorGraphError("bits per byte: no text to measure (every text is empty)") }
        let rows = try Packer(length: length, tokenizer: model.config.tokenizer).pack(pieces.map { [.text($0.piece)] })
        let nats = try pieceLosses(rows, pieces: pieces.count)
        var documents = texts.map { Document(bits: 0, bytes: $0.utf8.count) }
        for (k, piece) in pieces.enumerated() { documents[piece.text].bits += nats[k] / log(2) }
        return Result(documents: documents)
    }

    /// The summed negative log-likelihood (nats) of each packed piece, in packing order.
    func pieceLosses(_ rows: [PackedSequence], pieces: Int) throws -> [Double] {
        let rowsPerRun = min(batch, rows.count)
        let x = try BatchInputs(batch: rowsPerRun, length: length, config: model.config)
        let losses = try positionLosses(x)
        let plan = try Plan([losses.node])
        let feeder = BatchFeeder(model: model)
        var totals = [Double](repeating: 0, count: pieces), firstPiece = 0, rng = RNG(seed: 0)
        for start in stride(from: 0, to: rows.count, by: rowsPerRun) {
            try cancellation.check("bits per byte", "after \(start) of \(rows.count) rows")
            // A short last group repeats its last row to fill the plan's batch; the copies are not read.
            let group = (start..<(start + rowsPerRun)).map { rows[min($0, rows.count - 1)] }
            let feeds = try feeder.values(group, images: Array(repeating: [], count: rowsPerRun), inputs: x, rng: &rng)
            // Diffusion inputs (noise, which patches learn) are not part of this forward-only plan.
            for (node, value) in feeds where plan.buffer(node) != nil { try plan.set(node, value) }
            try plan.run()
            let output = UnsafeBufferPointer(plan.outputBuffer(0))
            for r in 0..<min(rowsPerRun, rows.count - start) {
                firstPiece = add(row: group[r], losses: output.baseAddress! + r * length, firstPiece: firstPiece, to: &totals)
            }
        }
        return totals
    }

    /// −log p(target) at every position of the rows [batch, length]; 0 where there is no target
    /// (its one-hot row is empty).
    func positionLosses(_ x: BatchInputs) throws -> Tensor {
        let logits = try model.tokenLogits(model.forward(x).hidden)
        return try -(logits.logSoftmax(axis: -1) * x.targets.oneHot(model.config.vocabulary, ignoring: -1)).sum(axes: [-1])
    }

    /// Adds one row's position losses to its pieces (the packer numbers a row's documents from
    /// 0 in order, padding last); returns the index of the next row's first piece.
    func add(row: PackedSequence, losses: UnsafePointer<Float>, firstPiece: Int, to totals: inout [Double]) -> Int {
        var documents = 0
        for i in 0..<row.count where row.layout[i].kind != .pad {
            let document = row.layout[i].document
            documents = max(documents, document + 1)
            if row.lmTarget[i] != nil { totals[firstPiece + document] += Double(losses[i]) }
        }
        return firstPiece + documents
    }
}
