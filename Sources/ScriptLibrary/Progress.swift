import Script
import Foundation
import Transfusion

/// Training progress on stderr: a bar redrawn in place on a terminal (step, each loss part,
/// tokens/s, ETA), plain log lines every `every` steps otherwise (pipes, files, CI logs).
struct Progress {
    let total: Int, every: Int, tokensPerStep: Int
    let start = Date()
    let terminal = isatty(2) != 0

    func update(step: Int, lm: Float, diffusion: Float, extra: [(name: String, value: Float)] = []) {
        let elapsed = Date().timeIntervalSince(start), done = step + 1
        let eta = elapsed / Double(done) * Double(total - done)
        let stats = Self.stats(lm: lm, diffusion: diffusion, extra: extra, rate: Double(done * tokensPerStep) / max(elapsed, 1e-9)) + "  ETA " + Self.clock(eta)
        if terminal {
            let width = 24, filled = width * done / max(total, 1)
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            write("\r\(bar) \(done)/\(total)  \(stats)\u{1B}[K" + (done == total ? "\n" : ""))
        } else if step % every == 0 || done == total {
            write(String(format: "step %5ld/%ld  ", done, total) + stats + "\n")
        }
    }

    /// The run's last state as one line, for a document (a notebook cell's output) where a bar
    /// redrawn in place cannot go: `train: 300/300 steps in 0:41  LM 2.1  diffusion 0.4  …`.
    func summary(done: Int, last: Trainer.Record?, extraNames: [String]) -> String {
        let elapsed = Date().timeIntervalSince(start)
        var line = "train: \(done)/\(total) steps in \(Self.clock(elapsed))"
        if let last {
            line += "  " + Self.stats(lm: last.lm, diffusion: last.diffusion, extra: zip(extraNames, last.extra).map { ($0, $1) },
                                      rate: Double(done * tokensPerStep) / max(elapsed, 1e-9))
        }
        return line
    }

    static func stats(lm: Float, diffusion: Float, extra: [(name: String, value: Float)], rate: Double) -> String {
        let terms = extra.map { String(format: "%@ %.4f  ", $0.name, $0.value) }.joined()
        return String(format: "LM %.4f  diffusion %.4f  %@%.0f tokens/s", lm, diffusion, terms, rate)
    }

    func finish(stoppedAt step: Int) {
        if terminal && step < total { write("\n") }
    }

    /// A line of its own (a skipped step, where a run resumes), clear of the bar.
    func note(_ line: String) {
        write((terminal ? "\r\u{1B}[K" : "") + line + "\n")
    }

    private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 3600 ? String(format: "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60) : String(format: "%ld:%02ld", s / 60, s % 60)
    }
}
