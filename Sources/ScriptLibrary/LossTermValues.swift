import Script
import TensorGraph
import Transfusion

/// Loss terms written in the script: `loss=lm + 5 * diffusion + 0.1 * term(f)`, where `f(out)`
/// returns one number (a scalar tensor) from the batch's outputs. The model calls it when it
/// builds its training graph; each step reports the term under the function's name.
enum LossTerms {
    static let all: [Builtin] = [
        Builtin("term", "f, name=None",
                help: "A loss term written as a function f(out) of the batch's outputs (out.hidden, out.prediction, out.target, out.learned, out.patches, out.t, out.snr, out.time, out.logits, out.targets), returning one number; combine it with lm and diffusion by + and *. Training reports it under its name (the function's by default) and run.terms holds its curve.",
                example: "def min_snr(out):\n    w = minimum(out.snr, 5) / maximum(out.snr, 1e-3) * out.learned\n    return (w * (out.prediction - out.target).square()).sum() / maximum(out.learned.sum() * 48, 1)\nm = transfusion(dim=32, layers=1, heads=2, loss=lm + term(min_snr))\nrun = train(m, shapes(size=16), steps=2, batch=2)\nprint(run.terms[\"min_snr\"])") { a in
            guard case .function(let f) = a["f"] else { throw a.error("f", "must be a function f(out)") }
            let name = try a.optionalString("name") ?? f.name
            guard !name.isEmpty, !["lm", "diffusion", "total"].contains(name) else { throw a.error("name", "'\(name)' is taken: name the term something else") }
            let interpreter = a.interpreter, span = a.span
            let term = LossTerm(name: name) { outputs in
                let out = try interpreter.call(.function(f), CallArguments(positional: [.object(LossOutputsValue(outputs))], span: span))
                switch out {
                case .tensor(let t): return t
                case .int, .float: return .scalar(Float(out.number!))
                default: throw RuntimeError("the loss term '\(name)' must return a number or a one-value tensor, not '\(out.typeName)'", span: f.span)
                }
            }
            return .object(LossValue(LossWeights(lm: 0, diffusion: 0, terms: [term])))
        },
    ]
}

/// What a loss term's function receives: the batch's outputs as tensors [b, t, …].
final class LossOutputsValue: ScriptObject {
    let outputs: LossOutputs
    init(_ outputs: LossOutputs) { self.outputs = outputs }

    static let type: ValueType = {
        let m = Members<LossOutputsValue>("loss_outputs")
        func field(_ name: String, _ help: String, _ get: @escaping (LossOutputs) -> Tensor) -> Field {
            m.field(name, help) { .tensor(get($0.outputs)) }
        }
        return ValueType("loss_outputs", help: "What a loss term receives: a batch's outputs at every position of its packed rows.", fields: [
            field("hidden", "Final hidden states [b, t, dim].") { $0.hidden },
            field("prediction", "The patch decoder's prediction [b, t, patch values] (0 off patches).") { $0.prediction },
            field("target", "What the objective wants the prediction to be: ε, v or the velocity [b, t, patch values].") { $0.target },
            field("learned", "1 at patches that take the diffusion loss, else 0 [b, t, 1].") { $0.learned },
            field("patches", "The noisy patches x_t [b, t, patch values].") { $0.patches },
            field("t", "Each patch's diffusion time t / T in [0, 1] [b, t, 1].") { $0.t },
            field("snr", "Each patch's signal-to-noise ratio ᾱ / (1 − ᾱ) (for flow, ((1 − t) / t)²) [b, t, 1].") { $0.snr },
            field("time", "The timestep embedding [b, t, dim].") { $0.time },
            field("logits", "Next-token logits [b, t, vocabulary].") { $0.logits },
            field("targets", "The LM targets [b, t] (−1 where there is none).") { $0.targets },
        ])
    }()

    var description: String { "the outputs of a batch of \(outputs.hidden.shape.first ?? 0) rows" }
}
