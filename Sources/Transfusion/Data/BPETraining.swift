import TensorGraph

extension Tokenizer {
    /// A byte-level BPE vocabulary of at most `vocabulary` ids learned from `texts` (as GPT-2
    /// and minbpe learn one): starting from bytes, the most frequent adjacent pair of tokens
    /// inside a chunk becomes a new token, again and again; a tie goes to the pair with the
    /// lowest ids, so the result depends on the texts alone. Learning stops early when no pair
    /// occurs twice (a merge seen once teaches nothing).
    public static func train(on texts: [String], vocabulary: Int) throws -> Tokenizer {
        try learn(on: texts, vocabulary: vocabulary).tokenizer
    }

    /// `train`, with the learner's final state (its work counters show the cost).
    static func learn(on texts: [String], vocabulary: Int) throws -> (tokenizer: Tokenizer, learner: MergeLearner) {
        guard vocabulary >= firstMerge else {
            throw TensorGraphError("a vocabulary holds at least the 256 bytes and 5 specials (\(firstMerge) ids), got \(vocabulary)")
        }
        var learner = MergeLearner(chunkCounts(texts))
        var merges: [Pair] = []
        while firstMerge + merges.count < vocabulary, let pair = learner.mostFrequent() {
            learner.merge(pair, into: firstMerge + merges.count)
            merges.append(pair)
        }
        return (Tokenizer(merges: merges), learner)
    }

    /// Every distinct chunk of the texts, with how many times it occurs: training counts pairs
    /// once per distinct chunk, not once per occurrence.
    static func chunkCounts(_ texts: [String]) -> [ArraySlice<UInt8>: Int] {
        var counts: [ArraySlice<UInt8>: Int] = [:]
        for text in texts {
            let bytes = Array(text.utf8)
            for chunk in chunks(bytes) { counts[bytes[chunk], default: 0] += 1 }
        }
        return counts
    }

    /// The texts of a dataset to learn a vocabulary from: every document of a text corpus and
    /// every caption of an image folder; `samples` draws (by `seed`) from a procedural dataset
    /// or a mixture.
    public static func trainingTexts(from data: any Dataset, samples: Int, seed: UInt64) -> [String] {
        if let corpus = data as? TextCorpus { return corpus.documents.map(\.text) }
        if let folder = data as? ImageTextDataset { return folder.pairs.map(\.caption) }
        var rng = RNG(seed: seed)
        return (0..<samples).flatMap { _ in texts(of: data.draw(&rng)) }
    }

    /// An item's texts: a document's text parts one by one, otherwise its one text.
    public static func texts(of item: DatasetItem) -> [String] {
        guard case .document(let parts) = item else { return [item.text] }
        return parts.compactMap { if case .text(let s) = $0 { s } else { nil } }
    }
}

/// The state of BPE learning: the distinct chunks as tokens with their counts, how often each
/// adjacent pair occurs (summed over chunks, weighted by count), which chunks hold a pair, and
/// a heap of pairs by count. A merge rewrites only the chunks that hold its pair and updates
/// the counts of the pairs they gain and lose, so each step costs what it changes, not a pass
/// over the corpus.
struct MergeLearner {
    typealias Pair = Tokenizer.Pair
    var words: [[Int]] = [], counts: [Int] = []
    var pairCounts: [Pair: Int] = [:]
    /// Chunks that held the pair when it appeared in them (some may have lost it since).
    var holders: [Pair: [Int]] = [:]
    var heap = PairHeap()
    /// Chunks looked at by all merges so far: the work of learning (a pass over the corpus per
    /// merge would be merges × chunks).
    private(set) var chunksVisited = 0

    init(_ chunkCounts: [ArraySlice<UInt8>: Int]) {
        for (chunk, count) in chunkCounts {
            let w = words.count
            words.append(chunk.map(Int.init)); counts.append(count)
            for pair in Self.pairs(words[w]) { pairCounts[pair, default: 0] += count; holders[pair, default: []].append(w) }
        }
        for (pair, count) in pairCounts { heap.push(count, pair) }
    }

    static func pairs(_ word: [Int]) -> [Pair] {
        word.count < 2 ? [] : (0..<(word.count - 1)).map { Pair(word[$0], word[$0 + 1]) }
    }

    /// The pair to merge next, or nil when none occurs twice. Heap entries whose count is no
    /// longer the pair's are stale (a fresher entry was pushed when it changed) and skipped.
    mutating func mostFrequent() -> Pair? {
        while let top = heap.pop() {
            guard pairCounts[top.pair] == top.count else { continue }
            return top.count >= 2 ? top.pair : nil
        }
        return nil
    }

    /// Makes `pair` the token `id` in every chunk that holds it.
    mutating func merge(_ pair: Pair, into id: Int) {
        var changed = Set<Pair>()
        for w in Set(holders.removeValue(forKey: pair) ?? []) {
            chunksVisited += 1
            let merged = Tokenizer.replacing(pair, with: id, in: words[w])
            guard merged.count < words[w].count else { continue }
            count(words[w], by: -counts[w], changed: &changed)
            count(merged, by: counts[w], changed: &changed)
            for new in Self.pairs(merged) where new.left == id || new.right == id { holders[new, default: []].append(w) }
            words[w] = merged
        }
        for p in changed { if let c = pairCounts[p] { heap.push(c, p) } }
    }

    mutating func count(_ word: [Int], by weight: Int, changed: inout Set<Pair>) {
        for pair in Self.pairs(word) {
            let c = pairCounts[pair, default: 0] + weight
            pairCounts[pair] = c == 0 ? nil : c
            changed.insert(pair)
        }
    }
}

/// A binary max-heap of (count, pair): the highest count first, ties to the lowest pair ids.
struct PairHeap {
    private var entries: [(count: Int, pair: Tokenizer.Pair)] = []

    private func before(_ i: Int, _ j: Int) -> Bool {
        let a = entries[i], b = entries[j]
        if a.count != b.count { return a.count > b.count }
        return (a.pair.left, a.pair.right) < (b.pair.left, b.pair.right)
    }

    mutating func push(_ count: Int, _ pair: Tokenizer.Pair) {
        entries.append((count, pair))
        var i = entries.count - 1
        while i > 0, before(i, (i - 1) / 2) { entries.swapAt(i, (i - 1) / 2); i = (i - 1) / 2 }
    }

    mutating func pop() -> (count: Int, pair: Tokenizer.Pair)? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var i = 0
        while true {
            let l = 2 * i + 1, r = l + 1
            var best = i
            if l < entries.count && before(l, best) { best = l }
            if r < entries.count && before(r, best) { best = r }
            guard best != i else { return top }
            entries.swapAt(i, best); i = best
        }
    }
}
